#include "db_plan.hpp"

#include "core/text.hpp"
#include "errcodes.hpp"
#include "sha256.hpp"

namespace dbkit {

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

namespace {
core::PlanOptions plan_options(const LoadedFolder &lf, const Options &o) {
	core::PlanOptions po;
	po.out_of_order = o.out_of_order;
	po.flipped_hash = [&lf](size_t pos) { return sha256_hex(core::flip_line_endings(lf.folder.migrations[pos].sql)); };
	return po;
}
}  // namespace

core::Plan plan_against_database(const LoadedFolder &lf, const Options &o, DrizzleTable *dz,
                                 std::vector<core::DrizzleRow> *drizzle_rows) {
	std::vector<core::HistoryRow> history = read_history();
	std::vector<core::DrizzleRow> drows;
	if (dz) {
		dz->refuse_if_elsewhere(lf.hashes);
		drows = dz->read();
	}
	core::PlanOptions po = plan_options(lf, o);
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
	core::PlanOptions po = plan_options(lf, o);
	return core::make_plan(lf.folder.migrations, lf.hashes, history, drows, po);
}

}  // namespace dbkit
