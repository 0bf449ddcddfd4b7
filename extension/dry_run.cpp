// dbkit_dry_run(folder, options): the pending migrations executed for real in
// a subtransaction that is then rolled back. Per statement: duration, rows,
// the relation locks it took, the tables it rewrote. Nothing remains.
#include <chrono>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/markers.hpp"
#include "core/text.hpp"
#include "errcodes.hpp"
#include "execute.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "locks.hpp"
#include "progress.hpp"
#include "run_state.hpp"
#include "spi.hpp"
#include "srf.hpp"
#include "subxact.hpp"

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

}  // namespace

DBKIT_FUNCTION(dbkit_dry_run) {
	if (PG_ARGISNULL(0))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument is null");
	Options opts = read_options(jsonb_arg(fcinfo, 1));
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0));
	RunScope run;
	spi::connect();
	lock_history(opts.lock_wait_ms);
	refuse_if_interrupted(opts.resume);
	core::Plan plan = plan_against_database(lf, opts);
	if (!plan.refusals.empty())
		throw Error(DBKIT_OUT_OF_ORDER, "refusing to apply: " + plan.refusals.front().message,
		            plan.refusals.front().hint);

	Subxact sx;  // everything below is rolled back
	try {
		for (const auto &it : plan.items) {
			if (!plan.runs(it))
				continue;
			const core::Migration &m = lf.folder.migrations[*it.pos];
			std::vector<PlannedStatement> stmts = plan_statements(m);
			if (is_non_transactional(m, stmts)) {
				for (const auto &s : stmts)
					out.add({m.tag, int32_t(s.number), int32_t(core::line_at(m.sql, s.file_offset)), s.command, Cell(),
					         Cell(), Cell(), Cell(),
					         std::string("not run: a non-transactional migration cannot run inside the dry run's "
					                     "transaction")});
				continue;
			}
			core::Markers mk = core::read_markers(m.sql);
			set_local_timeouts(mk.lock_timeout_ms.value_or(opts.lock_timeout_ms),
			                   mk.statement_timeout_ms.value_or(opts.statement_timeout_ms));
			std::set<std::string> before_locks = held_locks();
			for (const auto &s : stmts) {
				auto files_before = filenodes(s.relations);
				auto t0 = std::chrono::steady_clock::now();
				run_statements(m, {s});
				double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
				int64_t rows = static_cast<int64_t>(SPI_processed);
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
				out.add({m.tag, int32_t(s.number), int32_t(core::line_at(m.sql, s.file_offset)), s.command, ms, rows,
				         locks.empty() ? Cell() : Cell(locks), rewrites.empty() ? Cell() : Cell(rewrites), Cell()});
			}
		}
	} catch (...) {
		sx.rollback();
		throw;
	}
	sx.rollback();
	spi::finish();
	return out.done();
}
