// dbkit_rollback(folder jsonb, options jsonb): run the down files of the newest
// applied migrations, newest first (history order), inside the caller's
// transaction; remove their rows from dbkit's history and drizzle's table;
// record a `rollback` event with who, why and the hashes. Everything that can
// refuse does so before the first down file runs, naming every migration in
// the way.
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
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

struct Row {  // a row of dbkit.migrations
	std::string tag, hash, how;
	std::optional<std::string> down_hash;
	std::optional<int64_t> when;
};

struct Target {
	Row row;
	const core::Migration *m = nullptr;
	std::optional<std::string> down_hash;  // of the down file in the folder now
	core::Migration down;                  // the down file as a migration (file = the down file)
	std::vector<PlannedStatement> stmts;
};

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
	refuse_if_interrupted(false);

	std::map<std::string, size_t> by_tag;
	for (size_t i = 0; i < lf.folder.migrations.size(); ++i)
		by_tag.emplace(lf.folder.migrations[i].tag, i);

	// the history, newest first: the order the migrations were applied in, reversed
	spi::execute("SELECT tag, hash, how, down_hash, created_at FROM dbkit.migrations ORDER BY id DESC");
	std::vector<Row> history;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		history.push_back({*spi::get_text(i, 1), *spi::get_text(i, 2), *spi::get_text(i, 3), spi::get_text(i, 4),
		                   spi::get_int64(i, 5)});
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

	// every refusal, for every migration, before anything runs
	std::vector<Target> targets(count);
	std::vector<std::string> refusals;
	for (size_t i = 0; i < count; ++i) {
		Target &t = targets[i];
		t.row = history[i];
		const std::string &tag = t.row.tag;
		if (t.row.how != "applied") {
			const char *what = t.row.how == "baseline" ? "baselined"
			                   : t.row.how == "marked" ? "marked applied"
			                                           : "adopted from drizzle's table";
			refusals.push_back(fmt::format("{} was {} (dbkit never ran it): a rollback stops before it", tag, what));
			continue;
		}
		auto f = by_tag.find(tag);
		if (f == by_tag.end()) {
			refusals.push_back(fmt::format("{} is not in the folder (its files are missing)", tag));
			continue;
		}
		t.m = &lf.folder.migrations[f->second];
		if (lf.hashes[f->second] != t.row.hash) {
			refusals.push_back(fmt::format("{} was modified after it was applied: its down file may not reverse what "
			                               "ran",
			                               t.m->file));
			continue;
		}
		if (!t.m->down_sql) {
			refusals.push_back(fmt::format("{} has no down file ({})", tag,
			                               lf.folder.layout == core::Folder::Layout::Folders
			                                   ? tag + "/down.sql"
			                                   : tag + ".down.sql"));
			continue;
		}
		if (core::read_markers(*t.m->down_sql).irreversible) {
			refusals.push_back(fmt::format("{} is irreversible: {} is marked -- dbkit:irreversible", tag, t.m->down_file));
			continue;
		}
		t.down_hash = lf.down_hashes[f->second];
		t.down.idx = t.m->idx;
		t.down.tag = tag;
		t.down.when = t.m->when;
		t.down.breakpoints = t.m->breakpoints;
		t.down.file = t.m->down_file;
		t.down.sql = *t.m->down_sql;
		t.stmts = plan_statements(t.down);  // a syntax error is reported against the down file
		if (is_non_transactional(t.down, t.stmts))
			refusals.push_back(fmt::format("{} needs statements that cannot run in a transaction block (or carries a "
			                               "no-transaction marker); dbkit rollback does not run those",
			                               t.m->down_file));
	}
	if (!refusals.empty()) {
		std::string detail = fmt::format("{} problem{}:", refusals.size(), refusals.size() == 1 ? "" : "s");
		for (const auto &r : refusals)
			detail += "\n  " + r;
		throw Error(DBKIT_ROLLBACK_REFUSED, "refusing to roll back: " + refusals.front(),
		            "Write the missing down files (<tag>.down.sql beside the migration, <folder>/down.sql in drizzle-kit "
		            "1.0's layout), or roll back fewer migrations (--steps, --to). A migration that was baselined, "
		            "marked applied or adopted, or a down file that needs CONCURRENTLY, is undone by hand, then "
		            "dbkit forget TAG --reason TEXT. Nothing was rolled back.",
		            detail);
	}

	std::string remaining = count < history.size() ? history[count].tag : std::string();
	if (ro.dry_run) {
		for (const auto &t : targets)
			out.add({int32_t(t.m->idx), t.row.tag, std::string("would_roll_back"), int32_t(t.stmts.size()), Cell(),
			         t.row.hash, t.down.file, opt(t.down_hash)});
		spi::finish();
		return out.done();
	}

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
	HistoryWriter w("rollback", targets.back().row.tag, ro.reason);
	std::string detail = "{\"rolled_back\": [";
	for (size_t i = 0; i < targets.size(); ++i) {
		const Target &t = targets[i];
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
	spi::finish();
	return out.done();
}
