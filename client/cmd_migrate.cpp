// dbkit migrate: ship the folder to dbkit_apply() and report what it did.
// The server decides; this loops while it asks for more:
//   --transaction=all   one dbkit_apply call applies everything (one transaction)
//   --transaction=each  one call per migration, each committed on its own
// A non-transactional migration stops a call; its statements are then run here
// at top level, one by one, as dbkit_nontx_start() lists them, each step
// recorded with dbkit_nontx_statement(), and dbkit_nontx_finish() records it (and
// names the next migration when it is non-transactional too).
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "backup.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "nontx_runner.hpp"
#include "report.hpp"

namespace dbkit::client {

nlohmann::json server_options(const MigrateOptions &m) {
	nlohmann::json o = nlohmann::json::object();
	if (m.no_drizzle_sync)
		o["drizzle_sync"] = false;
	if (!m.drizzle_schema.empty())
		o["drizzle_schema"] = m.drizzle_schema;
	if (!m.drizzle_table.empty())
		o["drizzle_table"] = m.drizzle_table;
	if (m.lock_timeout_ms >= 0)
		o["lock_timeout"] = m.lock_timeout_ms;
	if (m.statement_timeout_ms >= 0)
		o["statement_timeout"] = m.statement_timeout_ms;
	else if (long role = inherited_statement_timeout_ms(); role > 0)
		o["statement_timeout"] = role;  // the role's or database's, per statement (connection.cpp)
	if (m.wait_ms >= 0)
		o["lock_wait"] = m.wait_ms;
	return o;
}

namespace {

struct Totals {
	int applied = 0, already = 0, adopted = 0, renamed = 0, statements = 0, calls = 0;
	double server_ms = 0;
	nlohmann::json rows = nlohmann::json::array();
	std::vector<Notice> notices;
};

nlohmann::json options_json(const MigrateOptions &m, bool each) {
	nlohmann::json o = server_options(m);
	if (m.out_of_order)
		o["out_of_order"] = true;
	if (m.lock_retries >= 0)
		o["lock_retries"] = m.lock_retries;
	if (m.resume)
		o["resume"] = true;
	if (each)
		o["limit"] = 1;
	return o;
}

void print_row(const Common &c, const MigrateOptions &m, const std::string &action, const std::string &tag, int n,
               double ms, const std::string &note) {
	if (c.json)
		return;
	if (action == "applied")
		fmt::print(out_stream(), "  applied  {:<40} {:>4} statement{}  {:>9}{}\n", tag, n, n == 1 ? " " : "s", human_ms(ms),
		           note.empty() ? "" : "  (" + note + ")");
	else if (action == "adopted" || action == "renamed")
		fmt::print(out_stream(), "  {:<8} {:<40} {}\n", action, tag, note);
	else if (m.verbose && action == "already_applied")
		fmt::print(out_stream(), "  ok       {}\n", tag);
}

int fail(const Common &c, const ServerError &failed, Totals &t, const char *what) {
	ServerError err = failed;
	// The server speaks for the call that failed. Migrations an earlier call of this run
	// committed (before a non-transactional one, or it) stay applied: say so.
	const std::string nothing = "Nothing from this run was applied or recorded.";
	if (size_t at = err.hint.find(nothing); at != std::string::npos && t.applied > 0) {
		std::string last;
		for (const auto &r : t.rows)
			if (r.value("action", "") == "applied")
				last = r.value("tag", "");
		err.hint.replace(at, nothing.size(),
		                 fmt::format("The failed transaction was rolled back; the {} migration{} this run applied before "
		                             "it (through {}) stay{} applied and recorded.",
		                             t.applied, t.applied == 1 ? "" : "s", last, t.applied == 1 ? "s" : ""));
	}
	if (!c.json)
		print_notices(t.notices);
	print_server_error(what, err);
	if (err.connection_lost)
		fmt::print(err_stream(), "  {:<8} {}\n", "note",
		           "The connection was lost: the server rolled the run back unless it had already committed. "
		           "Run `dbkit status` to see where the database stands.");
	if (c.json)
		emit_json({{"ok", false}, {"error", server_error_json(err)}, {"migrations", t.rows},
		           {"warnings", notices_json(t.notices)}});
	return kFailed;
}

// Runs one non-transactional migration statement by statement. `next`: the
// migration to run the same way right after it, when the server named one (then no
// dbkit_apply call is needed in between).
int run_non_transactional(const Common &c, const MigrateOptions &m, Session &s, const std::string &payload,
                          const std::string &options, const std::string &tag, Totals &t, std::string &next) {
	next.clear();
	ServerError err;
	auto plan = s.conn->query(fmt::format("SELECT statement, line, sql, lock_timeout_ms, statement_timeout_ms, "
	                                      "lock_retries, retry_delay_ms FROM {}($1::pg_catalog.jsonb, $2, "
	                                      "$3::pg_catalog.jsonb)",
	                                      s.fn("dbkit_nontx_start")),
	                          {payload, tag, options}, err);
	if (!plan)
		return fail(c, err, t, "migrate failed");
	if (!c.json)
		fmt::print(out_stream(), "  {:<8} {:<40} outside a transaction, statement by statement\n", "running", tag);
	TopLevelRun run{tag, "migration", "dbkit migrate --resume", m.resume, m.verbose && !c.json};
	if (auto failed = run_at_top_level(s, *plan, run))
		return fail(c, *failed, t, "migrate failed");
	nlohmann::json finish_options = nlohmann::json::parse(options);
	finish_options["chain_non_transactional"] = true;
	auto done = s.conn->query(fmt::format("SELECT idx, tag, action, statements, duration_ms, note FROM {}("
	                                      "$1::pg_catalog.jsonb, $2, $3::pg_catalog.jsonb)",
	                                      s.fn("dbkit_nontx_finish")),
	                          {payload, tag, finish_options.dump()}, err);
	if (!done)
		return fail(c, err, t, "migrate failed");
	for (int i = 0; i < done->rows(); ++i) {
		if (done->get(i, 2) == "non_transactional") {
			next = done->get(i, 1);
			continue;
		}
		int n = std::stoi(done->get(i, 3));
		double ms = std::stod(done->get(i, 4));
		std::string note = done->get(i, 5);
		// a resumed run ran only the statements from where it stopped: those are counted
		// (the summary said 2000 statements for a resume that ran the last 3)
		int ran = n;
		if (plan->rows() < n) {
			ran = plan->rows();
			std::string from = ran > 0 ? plan->get(0, 0) : std::to_string(n + 1);
			note = fmt::format("resumed at statement {} of {}: {} ran in this run{}{}", from, n, ran,
			                   note.empty() ? "" : "; ", note);
		}
		++t.applied;
		t.statements += ran;
		t.server_ms += ms;
		t.rows.push_back({{"idx", std::stoi(done->get(i, 0))}, {"tag", tag}, {"action", "applied"}, {"statements", ran},
		                  {"statements_in_file", n}, {"duration_ms", ms}, {"note", note}});
		print_row(c, m, "applied", tag, ran, ms, note);
	}
	// the run's warnings (drift carried, ...), shown with it as dbkit_apply's are
	for (auto &n : s.conn->take_notices())
		t.notices.push_back(n);
	if (!c.json) {
		print_notices(t.notices);
		t.notices.clear();
	}
	return kOk;
}

int dry_run(const Common &c, Session &s, const std::string &payload, const std::string &options) {
	ServerError err;
	auto r = s.conn->query(fmt::format("SELECT tag, statement, line, command, duration_ms, rows, locks, rewrites, note "
	                                   "FROM {}($1::pg_catalog.jsonb, $2::pg_catalog.jsonb)",
	                                   s.fn("dbkit_dry_run")),
	                       {payload, options}, err);
	auto notices = s.conn->take_notices();
	if (!c.json)
		print_notices(notices);
	if (!r) {
		print_server_error("dry run failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	nlohmann::json rows = nlohmann::json::array();
	for (int i = 0; i < r->rows(); ++i) {
		auto opt = [&](int k) { return r->null(i, k) ? std::string() : r->get(i, k); };
		rows.push_back({{"tag", r->get(i, 0)}, {"statement", std::stoi(r->get(i, 1))}, {"line", std::stoi(r->get(i, 2))},
		                {"command", r->get(i, 3)}, {"duration_ms", r->null(i, 4) ? nlohmann::json() : nlohmann::json(std::stod(r->get(i, 4)))},
		                {"rows", r->null(i, 5) ? nlohmann::json() : nlohmann::json(std::stoll(r->get(i, 5)))},
		                {"locks", opt(6)}, {"rewrites", opt(7)}, {"note", opt(8)}});
		if (c.json)
			continue;
		fmt::print(out_stream(), "  {:<36} #{:<3} {:<24} {:>9} {:>8} rows", r->get(i, 0), r->get(i, 1), r->get(i, 3),
		           r->null(i, 4) ? "-" : human_ms(std::stod(r->get(i, 4))), r->null(i, 5) ? "-" : r->get(i, 5));
		if (!opt(7).empty())
			fmt::print(out_stream(), "  REWRITES {}", opt(7));
		fmt::print(out_stream(), "\n");
		if (!opt(6).empty())
			fmt::print(out_stream(), "  {:<36}      locks: {}\n", "", opt(6));
		if (!opt(8).empty())
			fmt::print(out_stream(), "  {:<36}      {}\n", "", opt(8));
	}
	int not_rehearsed = 0;
	for (int i = 0; i < r->rows(); ++i)
		not_rehearsed += !r->null(i, 8) && r->get(i, 8).rfind("not ", 0) == 0;
	if (c.json)
		emit_json({{"ok", true}, {"dry_run", true}, {"statements", rows}, {"not_run", not_rehearsed},
		           {"warnings", notices_json(notices)}});
	else
		fmt::print(out_stream(), "dbkit: dry run of {} statement{} done and rolled back{}: nothing remains in the database "
		           "(sequence values and files written by COPY ... TO do)\n",
		           r->rows() - not_rehearsed, r->rows() - not_rehearsed == 1 ? "" : "s",
		           not_rehearsed ? fmt::format(", {} not run (see their notes)", not_rehearsed) : "");
	return kOk;
}

}  // namespace

int cmd_migrate(const Common &c, const MigrateOptions &m) {
	auto t0 = std::chrono::steady_clock::now();
	nlohmann::json payload_json;
	if (int rc = load_payload(c, payload_json))
		return rc;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	bool each = m.transaction == "each";
	std::string payload = payload_text(payload_json);
	std::string options = options_json(m, each).dump();
	// Wait for another deploy outside any transaction (holding no snapshot), then
	// hold the lock for the whole run: dbkit_apply and dbkit_nontx_* find it held.
	if (int rc = take_deploy_lock(c, s, m.wait_ms, m.dry_run ? "dry run failed" : "migrate failed"))
		return rc;
	options = s.with_lock(nlohmann::json::parse(options)).dump();
	if (m.dry_run)
		return dry_run(c, s, payload, options);  // --transaction each: rehearsed migration by migration

	Totals t;
	std::optional<Backup> backup;
	if (!m.backup_dir.empty()) {
		// a dump only when something will run: the folder's state as dbkit_status sees it
		ServerError err;
		auto st = s.conn->query(
		    fmt::format("SELECT pg_catalog.count(*) FILTER (WHERE state OPERATOR(pg_catalog.=) ANY "
		                "('{{pending,out_of_order}}'::pg_catalog.text[])), "
		                "(SELECT tag FROM dbkit.migrations ORDER BY id DESC LIMIT 1) "
		                "FROM {}($1::pg_catalog.jsonb, $2::pg_catalog.jsonb)",
		                s.fn("dbkit_status")),
		    {payload, options}, err);
		if (!st)
			return fail(c, err, t, "migrate failed");
		if (st->get(0, 0) != "0") {
			if (!c.json)
				fmt::print(out_stream(), "  backup   pg_dump --format=custom into {} ...\n", m.backup_dir);
			auto b0 = std::chrono::steady_clock::now();
			Backup b;
			std::string why;
			if (!take_backup(s, m.backup_dir, st->null(0, 1) ? "" : st->get(0, 1), b, why)) {
				ServerError be;
				be.message = "backup failed: " + why;
				be.hint = "Nothing was applied. Fix the cause (pg_dump on PATH and of the server's major version or "
				          "newer, the role may read every table, space in the directory) and run dbkit migrate "
				          "again, or deploy without --backup.";
				return fail(c, be, t, "migrate refused");
			}
			if (!c.json)
				fmt::print(out_stream(), "  backup   {} ({}, {})\n", b.file,
				           b.bytes < 1048576 ? fmt::format("{:.1f} kB", b.bytes / 1024.0)
				                             : fmt::format("{:.1f} MB", b.bytes / 1048576.0),
				           human_ms(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - b0)
				                        .count()));
			nlohmann::json o = nlohmann::json::parse(options);
			o["backup_file"] = b.file;
			o["backup_bytes"] = b.bytes;
			options = o.dump();
			backup = b;
		} else if (!c.json) {
			fmt::print(out_stream(), "  backup   nothing pending: no dump taken\n");
		}
	}
	for (;;) {
		ServerError err;
		auto r = s.conn->query(fmt::format("SELECT idx, tag, action, statements, duration_ms, note FROM {}("
		                                   "$1::pg_catalog.jsonb, $2::pg_catalog.jsonb)",
		                                   s.fn("dbkit_apply")),
		                       {payload, options}, err);
		for (auto &n : s.conn->take_notices())
			t.notices.push_back(n);
		if (!r)
			return fail(c, err, t, "migrate failed");
		++t.calls;
		std::string non_transactional;
		int applied_now = 0, pending = 0;
		for (int i = 0; i < r->rows(); ++i) {
			std::string action = r->get(i, 2), tag = r->get(i, 1);
			int n = r->null(i, 3) ? 0 : std::stoi(r->get(i, 3));
			double ms = r->null(i, 4) ? 0 : std::stod(r->get(i, 4));
			std::string note = r->null(i, 5) ? "" : r->get(i, 5);
			if (action == "non_transactional") {
				non_transactional = tag;
				continue;
			}
			if (action == "pending") {
				++pending;
				continue;
			}
			if (action == "already_applied") {
				if (t.calls == 1)
					++t.already;
				print_row(c, m, action, tag, n, ms, note);
				continue;
			}
			nlohmann::json row = {{"idx", std::stoi(r->get(i, 0))}, {"tag", tag}, {"action", action}};
			if (action == "applied") {
				++t.applied;
				++applied_now;
				t.statements += n;
				t.server_ms += ms;
				row["statements"] = n;
				row["duration_ms"] = ms;
			}
			t.adopted += action == "adopted";
			t.renamed += action == "renamed";
			if (!note.empty())
				row["note"] = note;
			t.rows.push_back(row);
			if (!c.json)
				print_notices(s.conn->take_notices());
			print_row(c, m, action, tag, n, ms, note);
		}
		if (!c.json) {
			print_notices(t.notices);
			t.notices.clear();
		}
		if (!non_transactional.empty()) {
			std::string next;
			for (std::string tag = non_transactional; !tag.empty(); tag = next)
				if (int rc = run_non_transactional(c, m, s, payload, options, tag, t, next))
					return rc;
			continue;  // then the rest
		}
		if (pending > 0 && applied_now > 0)
			continue;  // --transaction=each: the next one
		break;
	}
	double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
	if (c.json) {
		emit_json({{"ok", true},
		           {"applied", t.applied},
		           {"adopted", t.adopted},
		           {"already_applied", t.already},
		           {"renamed", t.renamed},
		           {"statements", t.statements},
		           {"duration_ms", total_ms},
		           {"transactions", t.calls},
		           {"migrations", t.rows},
		           {"backup", backup ? nlohmann::json{{"file", backup->file}, {"bytes", backup->bytes},
		                                              {"restore", backup->restore}}
		                             : nlohmann::json()},
		           {"warnings", notices_json(t.notices)}});
		return kOk;
	}
	if (t.applied == 0 && t.adopted == 0 && t.renamed == 0)
		fmt::print(out_stream(), "dbkit: nothing to apply: {} migration{} already applied ({})\n", t.already, t.already == 1 ? "" : "s",
		           human_ms(total_ms));
	else
		fmt::print(out_stream(), "dbkit: applied {} migration{} ({} statements, {} in SQL){}{}{}, total {}\n", t.applied,
		           t.applied == 1 ? "" : "s", t.statements, human_ms(t.server_ms),
		           t.adopted ? fmt::format(", adopted {} from drizzle", t.adopted) : "",
		           t.renamed ? fmt::format(", followed {} renamed", t.renamed) : "",
		           t.already ? fmt::format(", {} already applied", t.already) : "", human_ms(total_ms));
	if (backup)
		fmt::print(out_stream(), "dbkit: the backup taken before this run restores with:\n  {}\n", backup->restore);
	return kOk;
}

}  // namespace dbkit::client
