#pragma once
// dbkit COMMAND --targets FILE: the databases a fleet run goes over, one a line.
// A line is a libpq connection string (key=value words or a postgres:// URI) or
// a service name (a word without '=': `service=NAME`, from pg_service.conf).
// Blank lines and lines whose first non-blank character is '#' are skipped; a
// '#' later in a line is part of it (a password may hold one).
#include <istream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dbkit::client::fleet {

struct Target {
	int line = 0;          // in the targets file, 1-based
	std::string conninfo;  // what libpq connects with: may hold a password, never printed
	std::string shown;     // for people, reports and logs: key=value as libpq parsed it, passwords as ***
	std::string name;      // short: the dbname, service or host ("target" without any)
	std::string stem;      // for file names (--log-dir, --backup): "007-app_eu", unique in the list
};

struct TargetsError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// One line (trimmed, not blank, not a comment) as a target. Throws TargetsError
// when libpq does not accept it; the message never quotes the line's text.
Target parse_target(const std::string &text, int line = 0);

// Every target of `in`; `source` names it in errors (a path, or "stdin"). Throws
// TargetsError naming the line: a line libpq does not accept, the same target
// twice, or no target at all.
std::vector<Target> parse_targets(std::istream &in, const std::string &source);

// Any connection string libpq accepts, as key=value with passwords as ***; a
// string it does not accept comes back as "(not a connection string)".
std::string mask_conninfo(const std::string &conninfo);

}  // namespace dbkit::client::fleet
