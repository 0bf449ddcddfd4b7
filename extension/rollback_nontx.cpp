// A rollback's down file that cannot run in a transaction (DROP INDEX
// CONCURRENTLY, a no-transaction marker) runs as a non-transactional migration
// does: the client runs its statements one by one at top level, progress is
// committed after each (dbkit_nontx_step, dbkit_nontx_statement, shared with
// migrate), and a run that stops half-way is resumed with --resume.
//   dbkit_rollback_nontx_start(folder, tag, options)   what to run
//   dbkit_rollback_nontx_finish(folder, tag, options)  remove the history rows,
//                                                      record the rollback
// dbkit_rollback hands such a migration over with the action `non_transactional`.
#include <algorithm>

#include <fmt/format.h>

#include "core/json.hpp"
#include "core/markers.hpp"
#include "core/text.hpp"
#include "errcodes.hpp"
#include "execute.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "nontx_session.hpp"
#include "progress.hpp"
#include "reference_store.hpp"
#include "rollback_target.hpp"
#include "run_state.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

// `tag` must be the newest applied migration, rollable, with a non-transactional
// down file. Returns the history (newest first) too: what stays applied after it.
RollbackTarget newest_non_transactional(const LoadedFolder &lf, const std::string &tag,
                                        std::vector<HistoryRow> &history) {
	history = history_newest_first();
	if (history.empty() || history.front().tag != tag)
		throw Error(DBKIT_ROLLBACK_REFUSED,
		            history.empty() ? fmt::format("migration {} is not in the history", tag)
		                            : fmt::format("migration {} is not the newest applied migration ({} is)", tag,
		                                          history.front().tag),
		            "dbkit rollback rolls back the newest migrations first.");
	RollbackTarget t;
	if (std::string why = prepare_rollback_target(t, history.front(), lf); !why.empty())
		throw Error(DBKIT_ROLLBACK_REFUSED, "refusing to roll back: " + why, "Nothing was rolled back.");
	if (!t.non_transactional)
		throw Error(DBKIT_ROLLBACK_REFUSED,
		            fmt::format("the down file of {} is transactional: dbkit_rollback runs it", tag));
	return t;
}

}  // namespace

DBKIT_FUNCTION(dbkit_rollback_nontx_start) {
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "folder and tag are required");
	if (IsTransactionBlock())
		throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION, "dbkit_rollback_nontx_start must run outside a transaction block",
		            "The statements of a non-transactional down file run one by one at top level.");
	std::string tag = text_arg(fcinfo, 1);
	RollbackOptions ro;
	Options opts = read_options(jsonb_arg(fcinfo, 2), &ro);
	if (ro.reason.empty())
		throw Error(DBKIT_OPTION_INVALID, "dbkit rollback: a reason is required",
		            "Say why, for the history: --reason \"0042 broke checkout, incident 17\" (options: \"reason\").");
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	spi::connect();
	require_deployer("dbkit_rollback_nontx_start");
	SessionHold hold;  // kept on success: released by finish, a failed step, or disconnect
	std::vector<HistoryRow> history;
	RollbackTarget t = newest_non_transactional(lf, tag, history);

	spi::execute("SELECT tag, next_statement FROM dbkit.progress");
	int64_t start = 1;
	bool resuming = false;
	if (spi::rows() > 0) {
		std::string stopped = *spi::get_text(0, 1);
		start = spi::get_int64(0, 2).value_or(1);
		resuming = true;
		if (stopped != tag || !opts.resume)
			refuse_if_interrupted(false);
		refuse_if_interrupted(true, "down");  // an interrupted migrate is not resumed by a rollback
		check_resumed_statements(tag, t.down.file, "", t.stmts, start, "dbkit rollback --resume");  // 0.1.0 had no rollback
	}
	// the whole run's oldest migration (the client's plan): what --resume may reach
	if (!ro.through.empty() && std::none_of(history.begin(), history.end(),
	                                        [&](const HistoryRow &h) { return h.tag == ro.through; }))
		throw Error(DBKIT_OPTION_INVALID, fmt::format("option \"through\": migration {} is not in the history", ro.through),
		            "\"through\" names the oldest migration the whole rollback rolls back; dbkit status lists them.");
	std::optional<std::string> carried;
	bool absorbed = false;
	if (resuming) {
		spi::execute("SELECT EXISTS (SELECT 1 FROM dbkit.ddl_audit a, dbkit.progress p "
		             "WHERE p.tag = $1 AND a.id > coalesce(p.audit_mark, 0))",
		             {spi::text(tag)});
		absorbed = spi::get_text(0, 1) == std::optional<std::string>("t");
	} else {
		carried = drift_before_run();
	}
	spi::execute(
	    "INSERT INTO dbkit.progress (tag, hash, idx, created_at, statements, next_statement, status, absorbed_drift, "
	    "carried_drift, audit_mark, direction, reason, rollback_through, statement_hashes) "
	    "VALUES ($1, $2, $3, $4, $5, $6, 'running', $7::pg_catalog.bool, $8::pg_catalog.jsonb, "
	    "(SELECT coalesce(max(id), 0) FROM dbkit.ddl_audit), 'down', $9, $10, $11::pg_catalog.text[]) "
	    "ON CONFLICT (tag) DO UPDATE SET statements = excluded.statements, status = 'running', "
	    "statement_hashes = excluded.statement_hashes, "
	    "next_statement = excluded.next_statement, error = NULL, started_at = pg_catalog.clock_timestamp(), "
	    "updated_at = pg_catalog.clock_timestamp(), reason = excluded.reason, "
	    "absorbed_drift = dbkit.progress.absorbed_drift OR excluded.absorbed_drift, "
	    "rollback_through = coalesce(dbkit.progress.rollback_through, excluded.rollback_through)",  // the first run's
	    {spi::text(tag), spi::text(t.row.hash), spi::int4(static_cast<int32_t>(t.m->idx)), spi::int8(t.m->when),
	     spi::int4(static_cast<int32_t>(t.stmts.size())), spi::int4(static_cast<int32_t>(start)),
	     spi::text(absorbed ? "true" : "false"), spi::text_or_null(carried), spi::text(ro.reason),
	     spi::text_or_null(ro.through.empty() ? std::nullopt : std::optional<std::string>(ro.through)),
	     spi::text(statement_hashes(t.stmts))});
	spi::finish();

	core::Markers mk = core::read_markers(t.down.sql);
	std::vector<std::string> handed_out;
	for (const auto &s : t.stmts)
		if (s.number >= start)
			handed_out.emplace_back(s.text);
	set_session_statements(std::move(handed_out));  // only these escape the DDL audit
	set_nontx_resumed_at(resuming ? start : 0);
	hold.keep = true;
	for (const auto &s : t.stmts) {
		if (s.number < start)
			continue;
		out.add({int32_t(s.number), int32_t(core::line_at(t.down.sql, s.file_offset)), std::string(s.text),
		         int64_t(mk.lock_timeout_ms.value_or(opts.lock_timeout_ms)),
		         int64_t(mk.statement_timeout_ms.value_or(opts.statement_timeout_ms)), int32_t(opts.lock_retries),
		         int64_t(opts.retry_delay_ms)});
	}
	return out.done();
}

DBKIT_FUNCTION(dbkit_rollback_nontx_finish) {
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "folder and tag are required");
	std::string tag = text_arg(fcinfo, 1);
	RollbackOptions ro;
	Options opts = read_options(jsonb_arg(fcinfo, 2), &ro);
	ResultRows out(fcinfo);
	clear_session_statements();  // whatever happens next, the session's DDL is audited again
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	RunScope run;
	spi::connect();
	require_deployer("dbkit_rollback_nontx_finish");
	lock_history();
	std::optional<RunningProgress> run_state = running_progress(tag, "down");
	if (!run_state)
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("no non-transactional rollback of {} is in progress", tag));
	const int64_t total = run_state->total, next = run_state->next;
	const double ms = run_state->ms;
	const bool absorbed_drift = run_state->absorbed_drift;
	const std::optional<std::string> carried = run_state->carried;
	const std::string reason = ro.reason.empty() ? run_state->reason : ro.reason;
	if (next <= total)
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("the rollback of {} is not finished: statement {} of {} has not "
		                                              "run",
		                                              tag, next, total));
	std::vector<HistoryRow> history;
	RollbackTarget t = newest_non_transactional(lf, tag, history);
	std::string remaining = history.size() > 1 ? history[1].tag : std::string();
	if (carried)
		warn({core::Severity::Warning, "drift.carried", tag,
		      "the schema had changed outside the migrations before this rollback started (see dbkit drift); the "
		      "reference recorded after it keeps reporting those changes",
		      "Review SELECT * FROM dbkit.ddl_audit ORDER BY id DESC for who changed what, then run dbkit "
		      "accept-drift --reason TEXT if the change is meant to stay."});
	if (absorbed_drift)
		warn({core::Severity::Warning, "drift.absorbed", tag,
		      "the schema was changed outside the migrations while this non-transactional down file ran; dbkit "
		      "cannot tell those changes from the down file's own, so the reference this run records includes them",
		      "Review SELECT * FROM dbkit.ddl_audit ORDER BY id DESC for who changed what."});
	std::optional<DrizzleTable> dz;
	if (opts.drizzle_sync)
		dz.emplace(opts);
	HistoryWriter w("rollback", tag, reason);
	spi::execute("DELETE FROM dbkit.migrations WHERE tag = $1", {spi::text(tag)});
	if (dz && dz->exists())
		dz->remove(t.row.hash, t.row.when);
	w.set_detail(fmt::format("{{\"rolled_back\": [{{\"tag\": {}, \"hash\": {}, \"down_file\": {}, \"down_hash\": {}, "
	                         "\"recorded_down_hash\": {}, \"statements\": {}, \"non_transactional\": true}}], "
	                         "\"now_at\": {}, \"carried_drift\": {}, \"absorbed_drift\": {}}}",
	                         core::json_quote(tag), core::json_quote(t.row.hash), core::json_quote(t.down.file),
	                         core::json_quote(t.down_hash.value_or("")),
	                         t.row.down_hash ? core::json_quote(*t.row.down_hash) : "null", total,
	                         remaining.empty() ? "null" : core::json_quote(remaining), carried ? "true" : "false",
	                         absorbed_drift ? "true" : "false"));
	spi::execute("DELETE FROM dbkit.progress WHERE tag = $1", {spi::text(tag)});
	store_reference(w.run_id(), remaining, &opts, carried, /*incremental=*/false);  // its statements span transactions
	spi::finish();
	release_session_lock();
	out.add({int32_t(t.m->idx), tag, std::string("rolled_back"), int32_t(total), ms, t.row.hash, t.down.file,
	         opt(t.down_hash)});
	return out.done();
}
