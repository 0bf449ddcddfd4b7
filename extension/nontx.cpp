// Non-transactional migrations (CREATE INDEX CONCURRENTLY, VACUUM, or a
// no-transaction marker). The client runs the statements at top level, one by
// one; the server decides what to run and records each step as it commits:
//   dbkit_nontx_start(folder, tag, options)  what to run (from the stopping point with resume)
//   dbkit_nontx_step(tag, n, ok, error)      statement n done or failed
//   dbkit_nontx_finish(folder, tag)          record the migration in the history
// A session-level hold on dbkit's advisory lock keeps other deploys out meanwhile.
#include <fmt/format.h>

#include "core/markers.hpp"
#include "core/text.hpp"
#include "errcodes.hpp"
#include "execute.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "progress.hpp"
#include "run_state.hpp"
#include "snapshot_store.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

struct Target {
	const core::PlanItem *item;
	const core::Migration *m;
	std::vector<PlannedStatement> stmts;
};

// The migration `tag` must be the next one to run, and non-transactional.
Target next_non_transactional(const LoadedFolder &lf, const core::Plan &plan, const std::string &tag) {
	if (!plan.refusals.empty())
		throw Error(DBKIT_REPAIR_REFUSED, "refusing to run: " + plan.refusals.front().message, plan.refusals.front().hint);
	for (const auto &it : plan.items) {
		if (!plan.runs(it))
			continue;
		const core::Migration &m = lf.folder.migrations[*it.pos];
		if (m.tag != tag)
			throw Error(DBKIT_REPAIR_REFUSED,
			            fmt::format("migration {} is not the next one to run ({} is)", tag, m.tag),
			            "Run dbkit migrate: it applies the migrations in order.");
		std::vector<PlannedStatement> stmts = plan_statements(m);
		if (!is_non_transactional(m, stmts))
			throw Error(DBKIT_REPAIR_REFUSED, fmt::format("migration {} is transactional: dbkit_apply runs it", tag));
		return {&it, &m, std::move(stmts)};
	}
	throw Error(DBKIT_REPAIR_REFUSED, fmt::format("migration {} has nothing to run: it is not pending", tag));
}

// Holds the session lock and the run flag; gives them back unless kept.
struct SessionHold {
	bool keep = false;
	SessionHold() {
		hold_session_lock();  // waits for any other deploy
		set_session_run(true);
	}
	~SessionHold() {
		if (keep)
			return;
		set_session_run(false);
		try {
			release_session_lock();
		} catch (...) {
		}
	}
};

}  // namespace

DBKIT_FUNCTION(dbkit_nontx_start) {
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "folder and tag are required");
	if (IsTransactionBlock())
		throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION, "dbkit_nontx_start must run outside a transaction block",
		            "The statements of a non-transactional migration run one by one at top level.");
	std::string tag = text_arg(fcinfo, 1);
	Options opts = read_options(jsonb_arg(fcinfo, 2));
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	spi::connect();
	SessionHold hold;  // kept on success: released by finish, a failed step, or disconnect
	core::Plan plan = plan_against_database(lf, opts);
	Target t = next_non_transactional(lf, plan, tag);

	spi::execute("SELECT tag, next_statement FROM dbkit.progress");
	int64_t start = 1;
	if (spi::rows() > 0) {
		std::string stopped = *spi::get_text(0, 1);
		if (stopped != tag || !opts.resume)
			refuse_if_interrupted(false);
		start = spi::get_int64(0, 2).value_or(1);
	}
	const std::string &hash = lf.hashes[*t.item->pos];
	spi::execute(
	    "INSERT INTO dbkit.progress (tag, hash, idx, created_at, statements, next_statement, status) "
	    "VALUES ($1, $2, $3, $4, $5, $6, 'running') "
	    "ON CONFLICT (tag) DO UPDATE SET hash = excluded.hash, statements = excluded.statements, status = 'running', "
	    "error = NULL, started_at = pg_catalog.clock_timestamp(), updated_at = pg_catalog.clock_timestamp()",
	    {spi::text(tag), spi::text(hash), spi::int4(static_cast<int32_t>(t.m->idx)), spi::int8(t.m->when),
	     spi::int4(static_cast<int32_t>(t.stmts.size())), spi::int4(static_cast<int32_t>(start))});
	spi::finish();
	hold.keep = true;

	core::Markers mk = core::read_markers(t.m->sql);
	for (const auto &s : t.stmts) {
		if (s.number < start)
			continue;
		out.add({int32_t(s.number), int32_t(core::line_at(t.m->sql, s.file_offset)), std::string(s.text),
		         int64_t(mk.lock_timeout_ms.value_or(opts.lock_timeout_ms)),
		         int64_t(mk.statement_timeout_ms.value_or(opts.statement_timeout_ms)), int32_t(opts.lock_retries),
		         int64_t(opts.retry_delay_ms)});
	}
	return out.done();
}

DBKIT_FUNCTION(dbkit_nontx_step) {
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "tag, statement and ok are required");
	std::string tag = text_arg(fcinfo, 0);
	int32_t n = PG_GETARG_INT32(1);
	bool ok = PG_GETARG_BOOL(2);
	std::string error = text_arg(fcinfo, 3);
	spi::connect();
	std::string invalid;
	if (ok) {
		spi::execute(
		    "UPDATE dbkit.progress SET next_statement = $2 + 1, updated_at = pg_catalog.clock_timestamp() "
		    "WHERE tag = $1",
		    {spi::text(tag), spi::int4(n)});
	} else {
		invalid = invalid_indexes();
		std::string why = fmt::format("statement {} failed: {}", n, error);
		if (!invalid.empty())
			why += fmt::format(" (invalid index left behind: {})", invalid);
		spi::execute(
		    "UPDATE dbkit.progress SET status = 'failed', next_statement = $2, error = $3, "
		    "updated_at = pg_catalog.clock_timestamp() WHERE tag = $1",
		    {spi::text(tag), spi::int4(n), spi::text(why)});
	}
	int64_t updated = static_cast<int64_t>(spi::rows());
	spi::finish();
	if (!ok) {
		release_session_lock();
		set_session_run(false);
	}
	if (updated == 0)
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("no non-transactional run of {} is in progress", tag));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(invalid.data(), static_cast<int>(invalid.size())));
}

DBKIT_FUNCTION(dbkit_nontx_finish) {
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "folder and tag are required");
	std::string tag = text_arg(fcinfo, 1);
	Options opts = read_options(jsonb_arg(fcinfo, 2));
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	RunScope run;
	spi::connect();
	lock_history();
	spi::execute(
	    "SELECT statements, next_statement, "
	    "extract(epoch FROM pg_catalog.clock_timestamp() - started_at)::float8 * 1000 FROM dbkit.progress "
	    "WHERE tag = $1 AND status = 'running'",
	    {spi::text(tag)});
	if (spi::rows() == 0)
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("no non-transactional run of {} is in progress", tag));
	int64_t total = spi::get_int64(0, 1).value_or(0), next = spi::get_int64(0, 2).value_or(1);
	double ms = std::stod(spi::get_text(0, 3).value_or("0"));
	if (next <= total)
		throw Error(DBKIT_REPAIR_REFUSED,
		            fmt::format("migration {} is not finished: statement {} of {} has not run", tag, next, total));
	std::optional<DrizzleTable> dz;
	if (opts.drizzle_sync)
		dz.emplace(opts);
	core::Plan plan = plan_against_database(lf, opts, dz ? &*dz : nullptr);
	Target t = next_non_transactional(lf, plan, tag);
	const std::string &hash = lf.hashes[*t.item->pos];
	HistoryWriter w("apply", tag, {}, "{\"non_transactional\": true}");
	w.record({t.m->tag, t.m->idx, hash, t.m->when, ms, static_cast<int>(total), "applied"});
	if (dz) {
		dz->ensure(lf.folder.layout == core::Folder::Layout::Folders);
		dz->insert(hash, t.m->when, t.m->tag);
	}
	spi::execute("DELETE FROM dbkit.progress WHERE tag = $1", {spi::text(tag)});
	store_snapshot(w.run_id(), tag, &opts);
	spi::finish();
	release_session_lock();
	set_session_run(false);
	out.add({int32_t(t.m->idx), tag, std::string("applied"), int32_t(total), ms, hash,
	         std::string("non-transactional: statement by statement")});
	return out.done();
}
