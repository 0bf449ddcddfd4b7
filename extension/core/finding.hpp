// One problem found in a migrations folder or in its history: the unit that
// dbkit_validate returns, that `dbkit check` prints and that apply refuses on.
#pragma once
#include <string>
#include <vector>

namespace dbkit::core {

enum class Severity { Error, Warning };

struct Finding {
	Severity severity = Severity::Error;
	std::string code;     // stable id, e.g. "journal.file_missing" (docs/findings.md)
	std::string subject;  // the migration tag or file the finding is about
	std::string message;  // names the file, entry or field
	std::string hint;     // what to do next
};

inline const char *severity_name(Severity s) { return s == Severity::Error ? "error" : "warning"; }

inline bool has_errors(const std::vector<Finding> &fs) {
	for (const auto &f : fs)
		if (f.severity == Severity::Error)
			return true;
	return false;
}

}  // namespace dbkit::core
