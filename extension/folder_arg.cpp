#include "folder_arg.hpp"

#include <algorithm>

#include <optional>

#include <fmt/format.h>

#include "errcodes.hpp"
#include "sha256.hpp"

namespace dbkit {

void warn(const core::Finding &f) {
	const char *msg = f.message.c_str();
	const char *hint = f.hint.c_str();
	const char *code = f.code.c_str();
	PgCall([&]() noexcept {
		ereport(WARNING, (errmsg("%s", msg), errhint("%s", hint), errdetail("dbkit finding %s", code)));
	});
}

std::string problems_detail(const std::vector<const core::Finding *> &findings, const char *see_all) {
	constexpr size_t kShown = 20;  // a DETAIL is read by a person; the rest is one command away
	if (findings.size() < 2)
		return {};
	std::string detail = fmt::format("{} problems:", findings.size());
	for (size_t i = 0; i < findings.size() && i < kShown; ++i)
		detail += fmt::format("\n  [{}] {}", findings[i]->code, findings[i]->message);
	if (findings.size() > kShown)
		detail += fmt::format("\n  ... and {} more ({} lists them all)", findings.size() - kShown, see_all);
	return detail;
}

LoadedFolder load_folder_arg(Jsonb *folder, bool writes, bool show_anyway) {
	LoadedFolder lf;
	lf.input = read_folder(folder);
	lf.folder = core::load_folder(lf.input);
	std::vector<const core::Finding *> errors;
	for (const auto &f : lf.folder.findings)
		if (f.severity == core::Severity::Error)
			errors.push_back(&f);
	// shown anyway only when nothing but files are missing: the rest of the journal was
	// read, so every other migration's state is right (a journal that does not parse
	// would make every applied migration look missing)
	bool only_files_missing = std::all_of(errors.begin(), errors.end(), [](const core::Finding *f) {
		return f->code == "journal.file_missing";
	});
	if (!errors.empty() && !(show_anyway && only_files_missing)) {
		std::string detail = errors.size() > 1 ? problems_detail(errors, "dbkit check") : "finding " + errors[0]->code;
		throw Error(DBKIT_FOLDER_INVALID, errors[0]->message, errors[0]->hint + (writes ? " Nothing was applied." : ""),
		            detail);
	}
	for (const auto &f : lf.folder.findings)
		warn(f);
	lf.hashes.reserve(lf.folder.migrations.size());
	lf.down_hashes.reserve(lf.folder.migrations.size());
	for (const auto &m : lf.folder.migrations) {
		lf.hashes.push_back(sha256_hex(m.sql));
		lf.down_hashes.push_back(m.down_sql ? std::optional(sha256_hex(*m.down_sql)) : std::nullopt);
	}
	return lf;
}

}  // namespace dbkit
