// dbkit_apply(folder jsonb, options jsonb): apply the pending migrations of a
// folder inside the caller's transaction.
#include <chrono>
#include <optional>
#include <unordered_set>

#include <fmt/format.h>

#include "errcodes.hpp"
#include "execute.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "run_state.hpp"
#include "snapshot_store.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

int refusal_sqlstate(const std::string &code) {
	if (code == "history.modified")
		return DBKIT_APPLIED_MODIFIED;
	if (code == "history.missing")
		return DBKIT_APPLIED_MISSING;
	return DBKIT_OUT_OF_ORDER;
}

[[noreturn]] void refuse(const std::vector<core::Finding> &refusals) {
	const core::Finding &first = refusals.front();
	std::string detail;
	if (refusals.size() > 1) {
		detail = fmt::format("{} problems:", refusals.size());
		for (const auto &r : refusals)
			detail += fmt::format("\n  [{}] {}", r.code, r.message);
	}
	throw Error(refusal_sqlstate(first.code), "refusing to apply: " + first.message,
	            first.hint + "\nNothing was applied.", detail);
}

double ms_since(std::chrono::steady_clock::time_point t0) {
	return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

DBKIT_FUNCTION(dbkit_apply) {
	if (PG_ARGISNULL(0))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument is null");
	Jsonb *folder = PG_GETARG_JSONB_P(0);
	Jsonb *options = PG_ARGISNULL(1) ? nullptr : PG_GETARG_JSONB_P(1);
	if (IsolationUsesXactSnapshot())
		throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION, "dbkit_apply must run in a READ COMMITTED transaction",
		            "Under REPEATABLE READ or SERIALIZABLE it could not see a concurrent deploy's history. Run it "
		            "on its own (autocommit) or after BEGIN ISOLATION LEVEL READ COMMITTED.");
	Options opts = read_options(options);
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(folder);

	RunScope run;  // the DDL audit ignores what dbkit runs
	spi::connect();
	lock_history();  // before reading history: a concurrent deploy waits here
	std::optional<DrizzleTable> dz;
	if (opts.drizzle_sync)
		dz.emplace(opts);
	std::vector<core::DrizzleRow> drizzle_rows;
	core::Plan plan = plan_against_database(lf, opts, dz ? &*dz : nullptr, &drizzle_rows);
	if (!plan.refusals.empty())
		refuse(plan.refusals);
	for (const auto &n : plan.notices)
		warn(n);

	// Parse everything that will run before running anything: a syntax error
	// in the last pending migration costs nothing.
	const auto &migs = lf.folder.migrations;
	std::vector<std::vector<PlannedStatement>> stmts(migs.size());
	bool writes = false;
	for (const auto &it : plan.items) {
		if (plan.runs(it))
			stmts[*it.pos] = plan_statements(migs[*it.pos]);
		writes |= it.state != core::State::Applied;
	}

	std::optional<HistoryWriter> history;
	std::unordered_set<std::string> drizzle_hashes;
	if (dz) {
		for (const auto &r : drizzle_rows)
			drizzle_hashes.insert(r.hash);
		for (const auto &it : plan.items)
			writes |= it.state == core::State::Applied && !drizzle_hashes.count(it.applied_hash);
	}
	bool absorbed_drift = false;
	if (writes) {
		absorbed_drift = drifted_since_last_snapshot();
		if (absorbed_drift)
			warn({core::Severity::Warning, "drift.absorbed", "",
			      "the schema had changed outside the migrations since the last run (see dbkit_drift()); the "
			      "snapshot recorded after this run includes those changes",
			      "Review SELECT * FROM dbkit.ddl_audit ORDER BY id DESC for who changed what."});
		history.emplace("apply");
		if (dz)
			dz->ensure(lf.folder.layout == core::Folder::Layout::Folders);
	}
	int applied = 0, adopted = 0;
	std::string last_tag;

	for (const auto &it : plan.items) {
		if (!it.pos)
			continue;
		const core::Migration &m = migs[*it.pos];
		const std::string &hash = lf.hashes[*it.pos];
		if (it.state == core::State::Applied) {
			if (dz && !drizzle_hashes.count(hash))
				dz->insert(hash, m.when, m.tag);  // keep drizzle's migrator from re-running it
			out.add({int32_t(m.idx), m.tag, std::string("already_applied"), Cell(), Cell(), hash, Cell()});
		} else if (it.state == core::State::Renamed) {
			history->rename(it.renamed_from, m.tag, m.idx);
			if (dz)
				dz->rename(hash, m.tag);
			out.add({int32_t(m.idx), m.tag, std::string("renamed"), Cell(), Cell(), hash, it.note});
		} else if (it.state == core::State::Adopt) {
			history->record({m.tag, m.idx, hash, m.when, 0.0, 0, "adopted"});
			++adopted;
			last_tag = m.tag;
			out.add({int32_t(m.idx), m.tag, std::string("adopted"), Cell(), Cell(), hash, it.note});
		} else if (plan.runs(it)) {
			auto t0 = std::chrono::steady_clock::now();
			run_statements(m, stmts[*it.pos]);
			double ms = ms_since(t0);
			int n = static_cast<int>(stmts[*it.pos].size());
			history->record({m.tag, m.idx, hash, m.when, ms, n, "applied"});
			++applied;
			last_tag = m.tag;
			if (dz)
				dz->insert(hash, m.when, m.tag);
			out.add({int32_t(m.idx), m.tag, std::string("applied"), int32_t(n), ms, hash,
			         it.state == core::State::OutOfOrder ? Cell("out of order: " + it.note) : Cell()});
		}
	}
	if (history) {
		history->set_detail(fmt::format("{{\"applied\": {}, \"adopted\": {}, \"absorbed_drift\": {}}}", applied,
		                                adopted, absorbed_drift ? "true" : "false"));
		store_snapshot(history->run_id(), last_tag);
	}
	spi::finish();
	return out.done();
}
