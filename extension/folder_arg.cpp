#include "folder_arg.hpp"

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

void refuse_plan(const std::vector<core::Finding> &refusals) {
	const core::Finding &first = refusals.front();
	std::vector<const core::Finding *> all;
	for (const auto &f : refusals)
		all.push_back(&f);
	std::string detail = problems_detail(all, "dbkit status --dir DIR");
	int sqlstate = first.code == "history.modified"  ? DBKIT_APPLIED_MODIFIED
	               : first.code == "history.missing" ? DBKIT_APPLIED_MISSING
	                                                 : DBKIT_OUT_OF_ORDER;
	throw Error(sqlstate, "refusing to apply: " + first.message, first.hint + "\nNothing was applied.", detail);
}

LoadedFolder load_folder_arg(Jsonb *folder) {
	LoadedFolder lf;
	lf.input = read_folder(folder);
	lf.folder = core::load_folder(lf.input);
	std::vector<const core::Finding *> errors;
	for (const auto &f : lf.folder.findings)
		if (f.severity == core::Severity::Error)
			errors.push_back(&f);
	if (!errors.empty()) {
		std::string detail = errors.size() > 1 ? problems_detail(errors, "dbkit check") : "finding " + errors[0]->code;
		throw Error(DBKIT_FOLDER_INVALID, errors[0]->message, errors[0]->hint + " Nothing was applied.", detail);
	}
	for (const auto &f : lf.folder.findings)
		warn(f);
	lf.hashes.reserve(lf.folder.migrations.size());
	for (const auto &m : lf.folder.migrations)
		lf.hashes.push_back(sha256_hex(m.sql));
	return lf;
}

core::Plan plan_against_database(const LoadedFolder &lf, const Options &o, DrizzleTable *dz,
                                 std::vector<core::DrizzleRow> *drizzle_rows) {
	std::vector<core::HistoryRow> history = read_history();
	std::vector<core::DrizzleRow> drows;
	if (dz) {
		dz->refuse_if_elsewhere(lf.hashes);
		drows = dz->read();
	}
	core::PlanOptions po;
	po.out_of_order = o.out_of_order;
	core::Plan plan = core::make_plan(lf.folder.migrations, lf.hashes, history, drows, po);
	if (drizzle_rows)
		*drizzle_rows = std::move(drows);
	return plan;
}

core::Plan plan_against_database(const LoadedFolder &lf, const Options &o) {
	// read-only callers (status, validate, lint, the dry run's plan): drizzle's
	// table is consulted, but one found elsewhere (DK017) stops only what writes
	std::vector<core::HistoryRow> history = read_history();
	std::vector<core::DrizzleRow> drows;
	if (o.drizzle_sync)
		drows = DrizzleTable(o).read();
	core::PlanOptions po;
	po.out_of_order = o.out_of_order;
	return core::make_plan(lf.folder.migrations, lf.hashes, history, drows, po);
}

}  // namespace dbkit
