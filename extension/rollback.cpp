// dbkit_rollback(folder jsonb, options jsonb): run the down files of the newest
// applied migrations, newest first (history order), inside the caller's
// transaction; remove their rows from dbkit's history and drizzle's table;
// record a `rollback` event with who, why and the hashes. Everything that can
// refuse does so before the first down file runs, naming every migration in
// the way. A down file that cannot run in a transaction (DROP INDEX
// CONCURRENTLY, a no-transaction marker) is not run here: the newer ones before
// it are rolled back and committed, and a row `non_transactional` tells the
// client to run it statement by statement (rollback_nontx.cpp), as migrate does.
#include <chrono>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "core/json.hpp"
#include "core/markers.hpp"
#include "errcodes.hpp"
#include "execute.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "locks.hpp"
#include "progress.hpp"
#include "run_state.hpp"
#include "reference_store.hpp"
#include "rollback_target.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

std::string replace_all(std::string s, const std::string &from, const std::string &to) {
	for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
		s.replace(at, from.size(), to);
	return s;
}

}  // namespace

DBKIT_FUNCTION(dbkit_rollback) {
	if (PG_ARGISNULL(0))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument is null");
	Jsonb *folder = jsonb_arg(fcinfo, 0);
	RollbackOptions ro;
	Options opts = read_options(jsonb_arg(fcinfo, 1), &ro);
	if (ro.reason.empty())
		throw Error(DBKIT_OPTION_INVALID, "dbkit rollback: a reason is required",
		            "Say why, for the history: --reason \"0042 broke checkout, incident 17\" (options: \"reason\").");
	if ((ro.steps > 0) == !ro.to.empty())
		throw Error(DBKIT_OPTION_INVALID, "dbkit rollback: give either --steps N (N >= 1) or --to TAG",
		            "--steps 1 rolls back the newest applied migration; --to TAG every migration applied after TAG.");
	if (IsolationUsesXactSnapshot())
		throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION, "dbkit_rollback must run in a READ COMMITTED transaction",
		            "Run it on its own (autocommit) or after BEGIN ISOLATION LEVEL READ COMMITTED.");
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(folder);

	RunScope run;  // the DDL audit ignores what dbkit runs
	spi::connect();
	require_deployer("dbkit_rollback");
	lock_history(opts.lock_wait_ms);  // a concurrent migrate or rollback waits here (the dry run too: it reads the history)
	refuse_if_interrupted(opts.resume, "down");  // --resume: a non-transactional down file that stopped half-way

	std::vector<HistoryRow> history = history_newest_first();
	size_t count = 0;
	if (ro.steps > 0) {
		if (static_cast<size_t>(ro.steps) > history.size())
			throw Error(DBKIT_ROLLBACK_REFUSED,
			            fmt::format("cannot roll back {} migrations: the history holds {}", ro.steps, history.size()),
			            "dbkit status lists the applied migrations. Nothing was rolled back.");
		count = static_cast<size_t>(ro.steps);
	} else {
		while (count < history.size() && history[count].tag != ro.to)
			++count;
		if (count == history.size())
			throw Error(DBKIT_ROLLBACK_REFUSED, fmt::format("migration {} is not in the history", ro.to),
			            "--to names a migration that stays applied; dbkit status lists them. Nothing was rolled back.");
		if (count == 0)
			throw Error(DBKIT_ROLLBACK_REFUSED,
			            fmt::format("migration {} is the newest applied migration: nothing to roll back", ro.to),
			            "--to TAG rolls back every migration applied after TAG.");
	}

	// --resume finishes the run that stopped, never more: typed again, that run's
	// --steps would count from a history its first part already shortened
	if (opts.resume)
		if (std::optional<RollbackLeft> left = stopped_rollback_left(); left && count > static_cast<size_t>(left->steps))
			throw Error(DBKIT_ROLLBACK_REFUSED,
			            fmt::format("--resume would roll back {} migrations, through {}: the rollback it continues has {} "
			                        "left to roll back, through {}",
			                        count, history[count - 1].tag, left->steps, left->through),
			            fmt::format("Finish that run first: dbkit rollback --resume --steps {} --reason TEXT{}; then roll "
			                        "back further with another dbkit rollback if you mean to. Nothing was rolled back.",
			                        left->steps, left->stays.empty() ? "" : " (or --to " + left->stays + ")"));

	// every refusal, for every migration, before anything runs
	std::vector<RollbackTarget> targets(count);
	std::vector<std::string> refusals;
	for (size_t i = 0; i < count; ++i)
		if (std::string why = prepare_rollback_target(targets[i], history[i], lf); !why.empty())
			refusals.push_back(why);
	if (!refusals.empty()) {
		std::string detail = fmt::format("{} problem{}:", refusals.size(), refusals.size() == 1 ? "" : "s");
		for (const auto &r : refusals)
			detail += "\n  " + r;
		throw Error(DBKIT_ROLLBACK_REFUSED, "refusing to roll back: " + refusals.front(),
		            "Write the missing down files (<tag>.down.sql beside the migration, <folder>/down.sql in drizzle-kit "
		            "1.0's layout), or roll back fewer migrations (--steps, --to). A migration that was baselined, "
		            "marked applied or adopted is undone by hand, then dbkit forget TAG --reason TEXT. "
		            "Nothing was rolled back.",
		            detail);
	}

	if (ro.dry_run) {
		for (const auto &t : targets)
			out.add({int32_t(t.m->idx), t.row.tag,
			         std::string(t.non_transactional ? "would_roll_back_non_transactional" : "would_roll_back"),
			         int32_t(t.stmts.size()), Cell(), t.row.hash, t.down.file, opt(t.down_hash)});
		spi::finish();
		return out.done();
	}
	// The stretch this call runs: up to the first down file that must run outside a transaction.
	size_t run_count = 0;
	while (run_count < count && !targets[run_count].non_transactional)
		++run_count;
	auto hand_over = [&](const RollbackTarget &t) {  // the client runs it statement by statement
		out.add({int32_t(t.m->idx), t.row.tag, std::string("non_transactional"), int32_t(t.stmts.size()), Cell(),
		         t.row.hash, t.down.file, opt(t.down_hash)});
	};
	if (run_count > 0)
		refuse_if_interrupted(false);  // what stopped half-way is resumed first (it is the newest)
	if (run_count == 0) {
		hand_over(targets[0]);
		spi::finish();
		return out.done();
	}
	std::string remaining = run_count < history.size() ? history[run_count].tag : std::string();

	std::optional<std::string> carried = drift_before_run();
	if (carried)
		warn({core::Severity::Warning, "drift.carried", "",
		      "the schema had changed outside the migrations since the last run (see dbkit drift); the reference "
		      "recorded after this rollback keeps reporting those changes",
		      "Review SELECT * FROM dbkit.ddl_audit ORDER BY id DESC for who changed what, then run dbkit "
		      "accept-drift --reason TEXT if the change is meant to stay."});
	std::optional<DrizzleTable> dz;
	if (opts.drizzle_sync)
		dz.emplace(opts);
	HistoryWriter w("rollback", targets[run_count - 1].row.tag, ro.reason);
	std::string detail = "{\"rolled_back\": [";
	for (size_t i = 0; i < run_count; ++i) {
		const RollbackTarget &t = targets[i];
		core::Markers mk = core::read_markers(t.down.sql);
		set_local_timeouts(mk.lock_timeout_ms.value_or(opts.lock_timeout_ms),
		                   mk.statement_timeout_ms.value_or(opts.statement_timeout_ms));
		auto t0 = std::chrono::steady_clock::now();
		try {
			run_statements(t.down, t.stmts);
		} catch (const PgError &e) {
			// the hint run_statements wrote speaks of migrate
			if (e.edata()->hint) {
				std::string h = replace_all(e.edata()->hint, "Nothing from this run was applied or recorded.",
				                            "Nothing was rolled back.");
				h = replace_all(h, "run dbkit migrate again", "run dbkit rollback again");
				e.edata()->hint = PgCall([&]() noexcept { return pstrdup(h.c_str()); });
			}
			throw;
		}
		double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
		spi::execute("DELETE FROM dbkit.migrations WHERE tag = $1", {spi::text(t.row.tag)});
		if (dz && dz->exists())
			dz->remove(t.row.hash, t.row.when);
		detail += fmt::format("{}{{\"tag\": {}, \"hash\": {}, \"down_file\": {}, \"down_hash\": {}, "
		                      "\"recorded_down_hash\": {}, \"statements\": {}}}",
		                      i ? ", " : "", core::json_quote(t.row.tag), core::json_quote(t.row.hash),
		                      core::json_quote(t.down.file), core::json_quote(t.down_hash.value_or("")),
		                      t.row.down_hash ? core::json_quote(*t.row.down_hash) : "null", t.stmts.size());
		out.add({int32_t(t.m->idx), t.row.tag, std::string("rolled_back"), int32_t(t.stmts.size()), ms, t.row.hash,
		         t.down.file, opt(t.down_hash)});
	}
	detail += fmt::format("], \"now_at\": {}, \"carried_drift\": {}}}",
	                      remaining.empty() ? "null" : core::json_quote(remaining), carried ? "true" : "false");
	w.set_detail(detail);
	store_reference(w.run_id(), remaining, &opts, carried);
	if (run_count < count)
		hand_over(targets[run_count]);
	spi::finish();
	return out.done();
}
