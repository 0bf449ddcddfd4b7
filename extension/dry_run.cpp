// dbkit_dry_run(folder, options): the pending migrations executed for real in
// a subtransaction that is then rolled back. Per statement: duration, rows,
// the relation locks it took, the tables it rewrote. Nothing remains in the
// database; session advisory locks a migration took are released.
// With "limit" > 0 (the client's --transaction each) each migration runs in a
// subtransaction of its own, as the real run commits each on its own: a use of
// an enum value an earlier migration added (SQLSTATE 55P04, which the real run
// avoids by committing in between) is reported as not rehearsed, not failed.
#include <chrono>
#include <exception>
#include <optional>
#include <tuple>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/markers.hpp"
#include "core/text.hpp"
#include "errcodes.hpp"
#include "execute.hpp"
#include "db_plan.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "locks.hpp"
#include "progress.hpp"
#include "run_state.hpp"
#include "session_watch.hpp"
#include "subxact.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

// relation -> relfilenode of the statement's tables (a change means a rewrite)
std::map<std::string, std::string> filenodes(const std::vector<std::string> &tables) {
	std::map<std::string, std::string> out;
	for (const auto &t : tables) {
		Oid relid = resolve_relation(t);
		if (relid == InvalidOid)
			continue;
		spi::execute("SELECT relfilenode::text, oid::pg_catalog.regclass::text FROM pg_catalog.pg_class "
		             "WHERE oid = $1::pg_catalog.oid",
		             {spi::text(std::to_string(relid))});
		if (spi::rows())  // keyed by the qualified name, whatever the migration wrote
			out[spi::get_text(0, 2).value_or(t)] = spi::get_text(0, 1).value_or("");
	}
	return out;
}

std::set<std::string> held_locks() {
	spi::execute(
	    "SELECT l.relation::pg_catalog.regclass::text || ' ' || l.mode FROM pg_catalog.pg_locks l "
	    "JOIN pg_catalog.pg_class c ON c.oid = l.relation JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.granted "
	    "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit', 'pg_toast')");
	std::set<std::string> out;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		out.insert(*spi::get_text(i, 1));
	return out;
}

// A row for each statement that was not run, with why.
void not_run(ResultRows &out, const core::Migration &m, const std::vector<PlannedStatement> &stmts, size_t from,
             const std::string &why) {
	for (size_t i = from; i < stmts.size(); ++i)
		out.add({m.tag, int32_t(stmts[i].number), int32_t(core::line_at(m.sql, stmts[i].file_offset)),
		         stmts[i].command, Cell(), Cell(), Cell(), Cell(), why});
}

}  // namespace

DBKIT_FUNCTION(dbkit_dry_run) {
	if (PG_ARGISNULL(0))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument is null");
	Options opts = read_options(jsonb_arg(fcinfo, 1));
	const bool each = opts.limit > 0;  // rehearse --transaction each
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	RunScope run;
	spi::connect();
	require_deployer("dbkit_dry_run");
	lock_history(opts.lock_wait_ms);
	refuse_if_interrupted(opts.resume);
	core::Plan plan = plan_against_database(lf, opts);
	if (!plan.refusals.empty())
		refuse_plan(plan.refusals);  // DK002 / DK003 / DK004, as the real run
	for (const auto &n : plan.notices)
		warn(n);
	std::set<AdvisoryLock> locks_before = advisory_locks();

	std::exception_ptr failed;
	Subxact sx;  // everything below is rolled back
	try {
		bool enum_added = false;  // an earlier migration of this dry run ran ALTER TYPE (ADD VALUE)
		std::string stopped;      // set once a migration could not be rehearsed: the rest is not run
		std::string skipped;      // the latest non-transactional migration, not run
		for (const auto &it : plan.items) {
			if (!plan.runs(it))
				continue;
			const core::Migration &m = lf.folder.migrations[*it.pos];
			core::TxShape shape;
			std::vector<PlannedStatement> stmts = plan_statements(m, &shape);
			if (!stopped.empty()) {
				not_run(out, m, stmts, 0, stopped);
				continue;
			}
			if (is_non_transactional(m, stmts)) {
				// Not run: at top level it would commit, and inside the dry run's transaction it
				// would not be the same (a plain CREATE INDEX blocks writes to the table while it
				// builds). Migrations after it run each in a subtransaction of its own: one that
				// fails for want of what this one builds is not rehearsed, not failed.
				not_run(out, m, stmts, 0,
				        shape.mode == core::TxShape::Mode::Blocks
				            ? "not run: the migration " + shape.summary + "; the dry run's single transaction cannot"
				            : "not run: a non-transactional migration cannot run inside the dry run's transaction");
				skipped = m.tag;
				continue;
			}
			core::Markers mk = core::read_markers(m.sql);
			std::optional<Subxact> own;  // --transaction each, or after a migration not run: its own subtransaction
			if (each || !skipped.empty())
				own.emplace();
			set_local_timeouts(mk.lock_timeout_ms.value_or(opts.lock_timeout_ms),
			                   mk.statement_timeout_ms.value_or(opts.statement_timeout_ms));
			std::set<std::string> before_locks = held_locks();
			SessionWatch watch;
			bool alters_type = false;  // this migration ran ALTER TYPE before the statement at hand
			size_t k = 0;
			std::string why_not;  // set when the statement at k needs an earlier migration committed
			try {
				for (; k < stmts.size(); ++k) {
					const PlannedStatement &s = stmts[k];
					auto files_before = filenodes(s.relations);
					auto t0 = std::chrono::steady_clock::now();
					run_statements(m, {s}, &watch);
					double ms =
					    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
					int64_t rows = static_cast<int64_t>(SPI_processed);
					alters_type |= s.command == "ALTER TYPE";
					auto files_after = filenodes(s.relations);
					std::string rewrites;
					for (const auto &[t, node] : files_before)
						if (files_after.count(t) && files_after[t] != node)
							rewrites += (rewrites.empty() ? "" : ", ") + t;
					std::set<std::string> now_locks = held_locks();
					std::string locks;
					for (const auto &l : now_locks)
						if (!before_locks.count(l))
							locks += (locks.empty() ? "" : ", ") + l;
					before_locks = now_locks;
					out.add({m.tag, int32_t(s.number), int32_t(core::line_at(m.sql, s.file_offset)), s.command, ms,
					         rows, locks.empty() ? Cell() : Cell(locks), rewrites.empty() ? Cell() : Cell(rewrites),
					         Cell()});
				}
				watch.check(m);
			} catch (const PgError &e) {
				// --transaction each commits every migration before the next one
				// runs; a rehearsal cannot (it would not be one), so a value an
				// earlier migration added to an enum is still uncommitted here.
				// (When this migration also ran ALTER TYPE, the value may be its
				// own, which fails the real run too: that stays a failure.)
				const int code = e.edata()->sqlerrcode;
				bool needs_commit = each && code == ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE && enum_added && !alters_type;
				// what a migration not run (non-transactional) would have built: a table, a column,
				// a type, a function, a schema, an enum value (committed, in the real run)
				bool needs_skipped = !skipped.empty() &&
				                     (code == ERRCODE_UNDEFINED_TABLE || code == ERRCODE_UNDEFINED_COLUMN ||
				                      code == ERRCODE_UNDEFINED_OBJECT || code == ERRCODE_UNDEFINED_FUNCTION ||
				                      code == ERRCODE_INVALID_SCHEMA_NAME || code == ERRCODE_INVALID_TEXT_REPRESENTATION ||
				                      code == ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE);
				if (!needs_commit && !needs_skipped)
					throw;
				own->rollback();
				const std::string msg = e.edata()->message ? e.edata()->message : "an error";
				why_not = needs_commit
				              ? fmt::format("not rehearsed: it uses an enum value that an earlier migration of this dry "
				                            "run added, which PostgreSQL accepts only once that migration is committed "
				                            "(SQLSTATE 55P04); the real --transaction each run commits it first. {}",
				                            msg)
				              : fmt::format("not rehearsed: it failed ({}) after {}, a non-transactional migration the "
				                            "dry run does not run, which the real run applies first; it may need what "
				                            "that one builds",
				                            msg, skipped);
			}
			if (!why_not.empty()) {
				const PlannedStatement &s = stmts[k];
				out.add({m.tag, int32_t(s.number), int32_t(core::line_at(m.sql, s.file_offset)), s.command, Cell(),
				         Cell(), Cell(), Cell(), why_not});
				not_run(out, m, stmts, k + 1,
				        fmt::format("not rehearsed: it follows statement {}, which could not be rehearsed", s.number));
				stopped = fmt::format("not rehearsed: it comes after {}, which could not be rehearsed", m.tag);
				continue;
			}
			if (own)
				own->commit();
			enum_added |= alters_type;
		}
	} catch (...) {
		failed = std::current_exception();  // rolled back below, outside the handler
	}
	sx.rollback();
	release_new_session_locks(locks_before);
	if (failed)
		std::rethrow_exception(failed);
	spi::finish();
	return out.done();
}
