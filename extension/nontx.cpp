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
#include "db_plan.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "parse.hpp"
#include "progress.hpp"
#include "run_state.hpp"
#include "reference_store.hpp"
#include "nontx_session.hpp"
#include "spi.hpp"
#include "as_owner.hpp"
#include "srf.hpp"
#include "subxact.hpp"

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

// The migration a dbkit_apply call would hand out next once `done` is recorded, when it
// is non-transactional too and nothing else comes before it (an adoption, a rename, a
// refusal: dbkit_apply decides those). nullptr: the client calls dbkit_apply.
const core::PlanItem *next_after(const LoadedFolder &lf, const core::Plan &plan, const core::PlanItem *done) {
	for (const auto &it : plan.items) {
		if (&it == done || it.state == core::State::Applied)
			continue;
		if (!it.pos || !plan.runs(it) || (it.state != core::State::Pending && it.state != core::State::OutOfOrder))
			return nullptr;
		const core::Migration &m = lf.folder.migrations[*it.pos];
		return is_non_transactional(m, plan_statements(m)) ? &it : nullptr;
	}
	return nullptr;
}

int64_t g_resumed_at = 0;  // see nontx_resumed_at()

// Statement n of the running migration `tag` committed: the run continues after it.
void record_step(const std::string &tag, int32_t n) {
	spi::execute_cached(
	    "UPDATE dbkit.progress SET next_statement = $2 + 1, updated_at = pg_catalog.clock_timestamp() "
	    "WHERE tag = $1",
	    {spi::text(tag), spi::int4(n)});
	if (spi::rows() == 0)
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("no non-transactional run of {} is in progress", tag));
}

Statement parse_one(const std::string &sql) {
	std::vector<Statement> st = parse_statements(sql);
	if (st.size() != 1)
		throw Error(DBKIT_REPAIR_REFUSED, "dbkit_nontx_statement takes one statement of the running migration");
	return std::move(st.front());
}

}  // namespace

namespace dbkit {
void set_nontx_resumed_at(int64_t statement) { g_resumed_at = statement; }
int64_t nontx_resumed_at() { return g_resumed_at; }
}  // namespace dbkit

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
	require_deployer("dbkit_nontx_start");
	SessionHold hold;  // kept on success: released by finish, a failed step, or disconnect
	core::Plan plan = plan_against_database(lf, opts);
	Target t = next_non_transactional(lf, plan, tag);

	spi::execute("SELECT tag, next_statement FROM dbkit.progress");
	int64_t start = 1;
	bool resuming = false;
	if (spi::rows() > 0) {
		std::string stopped = *spi::get_text(0, 1);
		if (stopped != tag || !opts.resume)
			refuse_if_interrupted(false);
		start = spi::get_int64(0, 2).value_or(1);
		resuming = true;
	}
	// Drift before the first statement runs is carried into the reference that
	// dbkit_nontx_finish records, as dbkit_apply does. Once statements have committed
	// they are in the live schema too, so changes by others after the start are told
	// from the audit (entries after the mark taken at the start).
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
	if (resuming)
		check_resumed_statements(tag, t.m->file, lf.hashes[*t.item->pos], t.stmts, start, "dbkit migrate --resume");
	if (resuming) {
		// An index an earlier statement built that is invalid now is built again.
		for (const auto &s : t.stmts) {
			if (s.number >= start || s.index_name.empty())
				continue;
			IndexState st = index_state(s.index_table, s.index_name);
			if (st.state != "invalid")
				continue;
			warn({core::Severity::Warning, "index.invalid", tag,
			      fmt::format("migration {}, statement {}: index {} is invalid; the run resumes from that "
			                  "statement, which drops it and builds it again",
			                  tag, s.number, st.qualified),
			      "A concurrent build that fails leaves an invalid index behind."});
			start = s.number;
			break;
		}
	}
	const std::string &hash = lf.hashes[*t.item->pos];
	spi::execute(
	    "INSERT INTO dbkit.progress (tag, hash, idx, created_at, statements, next_statement, status, absorbed_drift, "
	    "carried_drift, audit_mark, statement_hashes) "
	    "VALUES ($1, $2, $3, $4, $5, $6, 'running', $7::pg_catalog.bool, $8::pg_catalog.jsonb, "
	    "(SELECT coalesce(max(id), 0) FROM dbkit.ddl_audit), $9::pg_catalog.text[]) "
	    "ON CONFLICT (tag) DO UPDATE SET hash = excluded.hash, statements = excluded.statements, status = 'running', "
	    "statement_hashes = excluded.statement_hashes, "
	    "next_statement = excluded.next_statement, error = NULL, started_at = pg_catalog.clock_timestamp(), "
	    "updated_at = pg_catalog.clock_timestamp(), "
	    "absorbed_drift = dbkit.progress.absorbed_drift OR excluded.absorbed_drift",
	    {spi::text(tag), spi::text(hash), spi::int4(static_cast<int32_t>(t.m->idx)), spi::int8(t.m->when),
	     spi::int4(static_cast<int32_t>(t.stmts.size())), spi::int4(static_cast<int32_t>(start)),
	     spi::text(absorbed ? "true" : "false"), spi::text_or_null(carried), spi::text(statement_hashes(t.stmts))});
	spi::finish();

	core::Markers mk = core::read_markers(t.m->sql);
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
	require_deployer("dbkit_nontx_step");
	std::string invalid;
	if (ok) {
		record_step(tag, n);
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
		clear_session_statements();
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
	clear_session_statements();  // whatever happens next, the session's DDL is audited again
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	RunScope run;
	spi::connect();
	require_deployer("dbkit_nontx_finish");
	lock_history();
	std::optional<RunningProgress> run_state = running_progress(tag, "up");
	if (!run_state)
		throw Error(DBKIT_REPAIR_REFUSED, fmt::format("no non-transactional run of {} is in progress", tag));
	const int64_t total = run_state->total, next = run_state->next;
	const double ms = run_state->ms;
	const bool absorbed_drift = run_state->absorbed_drift;
	const std::optional<std::string> carried = run_state->carried;
	if (next <= total)
		throw Error(DBKIT_REPAIR_REFUSED,
		            fmt::format("migration {} is not finished: statement {} of {} has not run", tag, next, total));
	std::optional<DrizzleTable> dz;
	if (opts.drizzle_sync)
		dz.emplace(opts);
	core::Plan plan = plan_against_database(lf, opts, dz ? &*dz : nullptr);
	Target t = next_non_transactional(lf, plan, tag);
	if (auto [n, index] = invalid_built_index(t.stmts); n > 0)
		throw Error(DBKIT_INVALID_INDEX,
		            fmt::format("migration {}, statement {}: index {} is invalid, so the migration is not recorded",
		                        tag, n, index),
		            fmt::format("A concurrent build failed or an existing invalid index was skipped (IF NOT EXISTS). "
		                        "Run dbkit migrate --resume: it drops the index and builds it again from statement {}.",
		                        n));
	// The next migration, when the client may start it directly: decided before anything
	// is written, and never a reason to fail this finish (a next migration that does not
	// parse is dbkit_apply's to report, so the client calls it)
	const core::PlanItem *chained = nullptr;
	if (opts.chain_non_transactional) {
		Subxact sx;
		try {
			chained = next_after(lf, plan, t.item);
			sx.commit();
		} catch (const PgError &) {
			sx.rollback();
			chained = nullptr;
		} catch (const Error &) {
			sx.rollback();
			chained = nullptr;
		}
	}
	// Drift found at the start is carried forward. Other sessions' DDL during the run
	// (and this session's own outside the statements handed out) is in the audit after
	// the start's mark: the schema cannot separate it from the migration's statements.
	if (carried)
		warn({core::Severity::Warning, "drift.carried", tag,
		      "the schema had changed outside the migrations before this migration started (see dbkit drift); "
		      "those changes are not taken into the reference this run records: dbkit drift keeps reporting them",
		      kHintDriftCarried});
	const std::string &hash = lf.hashes[*t.item->pos];
	HistoryWriter w("apply", tag, {},
	                fmt::format("{{\"non_transactional\": true, \"absorbed_drift\": {}, \"carried_drift\": {}}}",
	                            absorbed_drift ? "true" : "false", carried ? "true" : "false"));
	w.record({t.m->tag, t.m->idx, hash, t.m->when, ms, static_cast<int>(total), "applied", lf.down_hashes[*t.item->pos]});
	if (dz) {
		dz->ensure(lf.folder.layout == core::Folder::Layout::Folders);
		dz->insert(hash, t.m->when, t.m->tag);
	}
	spi::execute("DELETE FROM dbkit.progress WHERE tag = $1", {spi::text(tag)});
	// its statements committed one by one: their objects are in dbkit.dirty_objects (by_dbkit), told
	// from others' DDL meanwhile (not by_dbkit), which stays drift while it touched none of them
	// re-read after the commit by the worker when nothing else is pending, as dbkit_apply does
	const Stored how = !carried && !absorbed_drift && defer_reference(w.run_id(), opts)
	                       ? Stored::incrementally
	                       : store_reference(w.run_id(), tag, &opts, carried);
	if (absorbed_drift)
		note_ddl_during_run(w.run_id(), how, /*stopped_half_way=*/false, tag);
	spi::finish();
	release_session_lock();
	out.add({int32_t(t.m->idx), tag, std::string("applied"), int32_t(total), ms, hash,
	         std::string("non-transactional: statement by statement")});
	if (chained) {
		const core::Migration &m = lf.folder.migrations[*chained->pos];
		out.add({int32_t(m.idx), m.tag, std::string("non_transactional"), Cell(), Cell(), lf.hashes[*chained->pos],
		         std::string("runs next, statement by statement (dbkit_nontx_start)")});
	}
	return out.done();
}

// dbkit_nontx_statement(tag, statement, sql, phase): what to do around one handed-out
// statement. phase 'before' (or 'resume' for the first statement of a resumed run):
//   top_level  whether it must run outside a transaction; if not, the client runs it
//              and dbkit_nontx_step(tag, n, true) in one transaction, so both commit
//              together or neither does
//   action     'run', or 'skip' (resume: the index it builds exists and is valid, so
//              it completed before the interruption)
//   before_sql a DROP INDEX CONCURRENTLY to run first: the index it builds is
//              invalid (a failed or interrupted concurrent build left it)
//              In a file with its own transaction control: 'begin' (the block's
//              BEGIN: run it, the transaction stays open), 'in_block' (run it, no
//              transaction of its own), 'commit' (record the step, then run the
//              COMMIT: progress commits with the block), and 'skip' for a COMMIT
//              outside any block (nothing to commit at top level)
// lock_timeout_ms, statement_timeout_ms (before, resume): the statement's timeouts,
// as dbkit_nontx_start listed them, set for the session (one round trip less).
// phase 'after': action 'ok', or 'invalid' when the index it names is invalid
// (CREATE INDEX ... IF NOT EXISTS skipped an invalid one): the step failed.
// phase 'done': 'after' for a statement the client ran with action 'run', and when
// 'ok' its step is recorded as dbkit_nontx_step(tag, n, true) does, in the same
// transaction (the statement's own when it needs none).
DBKIT_FUNCTION(dbkit_nontx_statement) {
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "tag, statement, sql and phase are required");
	std::string tag = text_arg(fcinfo, 0);
	int32_t n = PG_GETARG_INT32(1);
	std::string sql = text_arg(fcinfo, 2), phase = text_arg(fcinfo, 3);
	if (phase != "before" && phase != "resume" && phase != "after" && phase != "done")
		throw Error(DBKIT_OPTION_INVALID, "phase must be 'before', 'resume', 'after' or 'done'");
	if (!is_session_statement(sql))
		throw Error(DBKIT_REPAIR_REFUSED,
		            fmt::format("statement {} of {} is not a statement dbkit_nontx_start handed out in this server "
		                        "session",
		                        n, tag),
		            "Run dbkit migrate: it runs non-transactional migrations statement by statement, in the server "
		            "session that started the run. Through a pooler in transaction mode (pgbouncer's pool_mode = "
		            "transaction) the statements land in other server sessions: deploy over a direct connection or "
		            "session pooling.");
	const bool done = phase == "done";
	if (done)
		phase = "after";
	std::optional<int64_t> timeouts[2];
	for (int k = 0; k < 2; ++k)
		if (PG_NARGS() > 4 + k && !PG_ARGISNULL(4 + k)) {
			if (phase == "after")
				throw Error(DBKIT_OPTION_INVALID, "the timeouts are set before a statement runs, not after");
			timeouts[k] = PG_GETARG_INT64(4 + k);
			if (*timeouts[k] < 0 || *timeouts[k] > INT32_MAX)
				throw Error(DBKIT_OPTION_INVALID, fmt::format("{} must be from 0 to {} (milliseconds)",
				                                              k == 0 ? "lock_timeout_ms" : "statement_timeout_ms",
				                                              INT32_MAX));
		}
	ResultRows out(fcinfo);
	Statement st = parse_one(sql);
	spi::connect();
	if (done)
		require_deployer("dbkit_nontx_statement");
	for (int k = 0; k < 2; ++k)
		if (timeouts[k])
			spi::execute_cached(k == 0 ? "SELECT pg_catalog.set_config('lock_timeout', $1, false)"
			                           : "SELECT pg_catalog.set_config('statement_timeout', $1, false)",
			                    {spi::text(std::to_string(*timeouts[k]))});
	std::string action = phase == "after" ? "ok" : "run", before, note;
	bool top_level = st.needs_no_transaction;
	// The file's own BEGIN ... COMMIT blocks (core/transaction_shape.hpp): the client
	// sends this call inside the block once its BEGIN ran, so the session says where we are.
	const bool in_block = IsTransactionBlock();
	if (phase != "after" && st.tx == core::TxKind::Begin) {
		if (in_block)
			throw Error(DBKIT_REPAIR_REFUSED, fmt::format("statement {} of {} opens a block inside an open one", n, tag));
		action = "begin";  // run as written; the transaction stays open until the block's COMMIT
		top_level = true;
	} else if (phase != "after" && st.tx == core::TxKind::Commit) {
		action = in_block ? "commit" : "skip";  // commit: the progress row first, then the COMMIT, in one transaction
		top_level = true;
		if (!in_block)
			note = fmt::format("statement {} is a COMMIT with no block open: every statement before it has already "
			                   "committed on its own here, so it has nothing to do",
			                   n);
	} else if (phase != "after" && in_block) {
		action = "in_block";  // part of the author's transaction: no BEGIN/COMMIT of its own
	}
	if (!st.index_name.empty() && (phase == "after" || !in_block)) {  // no DROP INDEX CONCURRENTLY inside a block
		IndexState is = index_state(st.index_table, st.index_name);
		if (phase == "after" && is.state == "invalid") {
			action = "invalid";
			note = fmt::format("index {} is invalid after the statement (CREATE INDEX ... IF NOT EXISTS skips an "
			                   "existing index, even an invalid one)",
			                   is.qualified);
		} else if (phase != "after" && is.state == "invalid") {
			before = "DROP INDEX CONCURRENTLY IF EXISTS " + is.qualified;
			add_session_statement(before);  // dbkit's own: not audited
			note = fmt::format("index {} is invalid (a failed or interrupted concurrent build left it): dropping "
			                   "it before building it again",
			                   is.qualified);
		} else if (phase == "resume" && n == nontx_resumed_at() && is.state == "valid") {
			action = "skip";
			// the migration's from now on, whoever built it: the finish re-reads it with the run's
			// objects (a build by hand, as drift's advice says, then meets that DDL: taken in, warned)
			AsExtensionOwner owner;
			spi::execute_cached("INSERT INTO dbkit.dirty_objects (classid, objid, by_dbkit) "
			                    "SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, pg_catalog.to_regclass($1), true "
			                    "WHERE pg_catalog.to_regclass($1) IS NOT NULL",
			                    {spi::text(is.qualified)});
			note = fmt::format("index {} exists and is valid: statement {} completed before the interruption; "
			                   "not run again",
			                   is.qualified, n);
		}
	}
	if (done && action == "ok")
		record_step(tag, n);
	spi::finish();
	out.add({top_level, action, before.empty() ? Cell() : Cell(before),
	         note.empty() ? Cell() : Cell(note)});
	return out.done();
}
