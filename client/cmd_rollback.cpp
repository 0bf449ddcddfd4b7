// dbkit rollback (--steps N | --to TAG) --reason TEXT [--dry-run] [--transaction all|each]:
// ship the folder to dbkit_rollback(), which runs the down files newest first
// and records the rollback. The server decides and refuses; this prints.
//   --transaction=all   one call, one transaction: every down file or none
//   --transaction=each  the dry run lists the migrations, then one call per
//                       migration ({"steps": 1}), each committed on its own
// A down file that cannot run in a transaction (DROP INDEX CONCURRENTLY) is
// handed back by the server (action non_transactional): its statements run here
// one by one (nontx_runner), then dbkit_rollback_nontx_finish records it, and
// the rollback goes on with the migrations before it.
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "nontx_runner.hpp"
#include "report.hpp"

namespace dbkit::client {

namespace {

struct Rolled {
	std::string idx, tag, action, statements, duration_ms, hash, down_file, down_hash;
};

std::optional<std::vector<Rolled>> call(Session &s, const std::string &payload, const nlohmann::json &opts,
                                        ServerError &err) {
	auto r = s.conn->query(fmt::format("SELECT idx, tag, action, statements, duration_ms, hash, down_file, down_hash "
	                                   "FROM {}($1::pg_catalog.jsonb, $2::pg_catalog.jsonb)",
	                                   s.fn("dbkit_rollback")),
	                       {payload, s.with_lock(opts).dump()}, err);
	if (!r)
		return std::nullopt;
	std::vector<Rolled> out;
	for (int i = 0; i < r->rows(); ++i) {
		auto g = [&](int k) { return r->null(i, k) ? std::string() : r->get(i, k); };
		out.push_back({g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7)});
	}
	return out;
}

nlohmann::json row_json(const Rolled &r) {
	nlohmann::json j = {{"idx", std::stoi(r.idx)}, {"tag", r.tag}, {"action", r.action},
	                    {"statements", std::stoi(r.statements)}, {"hash", r.hash}, {"down_file", r.down_file},
	                    {"down_hash", r.down_hash}};
	if (!r.duration_ms.empty())
		j["duration_ms"] = std::stod(r.duration_ms);
	return j;
}

// Rolls back `tag`, whose down file runs outside a transaction, statement by statement.
std::optional<Rolled> roll_back_at_top_level(Session &s, const std::string &payload, const nlohmann::json &opts,
                                             const std::string &tag, bool resume, bool verbose,
                                             const std::string &resume_cmd, ServerError &err) {
	auto plan = s.conn->query(fmt::format("SELECT statement, line, sql, lock_timeout_ms, statement_timeout_ms, "
	                                      "lock_retries, retry_delay_ms FROM {}($1::pg_catalog.jsonb, $2, "
	                                      "$3::pg_catalog.jsonb)",
	                                      s.fn("dbkit_rollback_nontx_start")),
	                          {payload, tag, s.with_lock(opts).dump()}, err);
	if (!plan)
		return std::nullopt;
	if (verbose)
		fmt::print(out_stream(), "  {:<12} {:<40} down file outside a transaction, statement by statement\n",
		           "rolling back", tag);
	TopLevelRun run{tag, "rollback of", resume_cmd, resume, verbose};
	if (auto failed = run_at_top_level(s, *plan, run)) {
		err = *failed;
		return std::nullopt;
	}
	auto done = s.conn->query(fmt::format("SELECT idx, tag, action, statements, duration_ms, hash, down_file, down_hash "
	                                      "FROM {}($1::pg_catalog.jsonb, $2, $3::pg_catalog.jsonb)",
	                                      s.fn("dbkit_rollback_nontx_finish")),
	                          {payload, tag, s.with_lock(opts).dump()}, err);
	if (!done)
		return std::nullopt;
	if (done->rows() != 1) {
		err = ServerError{};
		err.message = fmt::format("the rollback of {} recorded nothing", tag);
		return std::nullopt;
	}
	auto g = [&](int k) { return done->null(0, k) ? std::string() : done->get(0, k); };
	Rolled r{g(0), g(1), g(2), g(3), g(4), g(5), g(6), g(7)};
	// a resumed rollback ran only the statements from where it stopped
	if (!r.statements.empty() && plan->rows() < std::stoi(r.statements))
		r.statements = std::to_string(plan->rows());
	return r;
}

}  // namespace

int cmd_rollback(const Common &c, const RollbackOptions &ro, const MigrateOptions &m) {
	nlohmann::json payload_json;
	if (int rc = load_payload(c, payload_json))
		return rc;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	const std::string what = m.dry_run ? "rollback dry run failed" : "rollback failed";
	// the same deploy lock as migrate: a rollback and a migrate never run at once
	if (int rc = take_deploy_lock(c, s, m.wait_ms, what))
		return rc;
	std::string payload = payload_text(payload_json);
	nlohmann::json opts = server_options(m);
	if (ro.steps > 0)
		opts["steps"] = ro.steps;
	else
		opts["to"] = ro.to;
	opts["reason"] = ro.reason;
	if (m.resume)
		opts["resume"] = true;

	std::vector<Notice> notices;
	nlohmann::json rows = nlohmann::json::array();
	// What finishes the run from where it stops. --to names a migration that stays; --steps
	// counts from the newest, so once some are rolled back the same --steps would reach
	// further back than asked (and drop what the first run was told to keep).
	size_t planned = 0, next = 0;
	auto again = [&]() {
		return ro.to.empty() ? fmt::format("--steps {}", planned - next) : "--to " + ro.to;
	};
	auto failed = [&](const ServerError &failure) {
		ServerError err = failure;
		if (!rows.empty() && planned > next) {
			const std::string nothing = "Nothing was rolled back.", rerun = "run dbkit rollback again";
			if (size_t at = err.hint.find(nothing); at != std::string::npos)
				err.hint.replace(at, nothing.size(),
				                 fmt::format("This migration's rollback was undone; the {} rolled back before it stay{} "
				                             "rolled back.",
				                             rows.size() == 1 ? "one" : std::to_string(rows.size()),
				                             rows.size() == 1 ? "s" : ""));
			if (size_t at = err.hint.find(rerun); at != std::string::npos)
				err.hint.replace(at, rerun.size(),
				                 fmt::format("run dbkit rollback {} --reason ... to finish{}", again(),
				                             ro.to.empty() ? " (not the same --steps: the history is shorter now)" : ""));
		}
		for (auto &n : s.conn->take_notices())
			notices.push_back(n);
		if (!c.json)
			print_notices(notices);
		print_server_error(what, err);
		if (!rows.empty() && !c.json)
			fmt::print(err_stream(), "  {:<8} {} rolled back and committed before the failure\n", "note",
			           rows.size() == 1 ? "1 migration was" : fmt::format("{} migrations were", rows.size()));
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}, {"migrations", rows},
			           {"warnings", notices_json(notices)}});
		return kFailed;
	};

	ServerError err;
	std::vector<Rolled> done;
	// The dry run first: what will be rolled back, newest first, and which down
	// files run outside a transaction.
	nlohmann::json dry = opts;
	dry["dry_run"] = true;
	auto plan = call(s, payload, dry, err);
	if (!plan)
		return failed(err);
	auto outside = [](const Rolled &r) { return r.action == "would_roll_back_non_transactional"; };
	if (m.dry_run) {
		for (auto &n : s.conn->take_notices())
			notices.push_back(n);
		if (!c.json)
			print_notices(notices);
		for (const auto &r : *plan) {
			rows.push_back(row_json(r));
			if (!c.json)
				fmt::print(out_stream(), "  would roll back  {:<40} {} ({} statement{}{})\n", r.tag, r.down_file,
				           r.statements, r.statements == "1" ? "" : "s",
				           outside(r) ? ", outside a transaction, one by one" : "");
		}
		if (c.json)
			emit_json({{"ok", true}, {"dry_run", true}, {"migrations", rows}, {"warnings", notices_json(notices)}});
		else
			fmt::print(out_stream(), "dbkit: rollback dry run: {} migration{} would be rolled back, newest first; nothing was "
			           "changed\n",
			           plan->size(), plan->size() == 1 ? "" : "s");
		return kOk;
	}
	auto record = [&](const Rolled &x, bool top_level) {
		for (auto &n : s.conn->take_notices())
			notices.push_back(n);
		rows.push_back(row_json(x));
		done.push_back(x);
		if (!c.json)
			fmt::print(out_stream(), "  rolled back  {:<40} {} ({} statement{}{})  {}\n", x.tag, x.down_file, x.statements,
			           x.statements == "1" ? "" : "s", top_level ? ", outside a transaction" : "",
			           human_ms(x.duration_ms.empty() ? 0.0 : std::stod(x.duration_ms)));
	};
	// Stretches of transactional down files run in one call each (--transaction
	// all) or one per migration (each); a non-transactional one on its own.
	planned = plan->size();
	if (!plan->empty())  // recorded if a down file stops half-way: --resume never reaches further back
		opts["through"] = plan->back().tag;
	while (next < plan->size()) {
		const Rolled &p = (*plan)[next];
		if (outside(p)) {
			auto r = roll_back_at_top_level(s, payload, opts, p.tag, m.resume && next == 0, !c.json,
			                                fmt::format("dbkit rollback --resume {} --reason ...{}", again(),
			                                            ro.to.empty() ? " (this --steps: the history is shorter "
			                                                            "than when the run began)"
			                                                          : ""),
			                                err);
			if (!r)
				return failed(err);
			record(*r, true);
			++next;
			continue;
		}
		size_t stretch = 1;
		if (m.transaction != "each")
			while (next + stretch < plan->size() && !outside((*plan)[next + stretch]))
				++stretch;
		nlohmann::json part = opts;
		part.erase("to");
		part["steps"] = stretch;
		auto r = call(s, payload, part, err);
		if (!r)
			return failed(err);
		for (size_t k = 0; k < stretch; ++k)
			if (k >= r->size() || (*r)[k].tag != (*plan)[next + k].tag || (*r)[k].action != "rolled_back") {
				// cannot happen while we hold the deploy lock
				err = ServerError{};
				err.message = fmt::format("expected to roll back {} next, the server did not", (*plan)[next + k].tag);
				return failed(err);
			}
		for (size_t k = 0; k < stretch; ++k)
			record((*r)[k], false);
		next += stretch;
	}
	if (c.json) {
		emit_json({{"ok", true}, {"rolled_back", done.size()}, {"migrations", rows}, {"warnings", notices_json(notices)}});
		return kOk;
	}
	print_notices(notices);
	fmt::print(out_stream(), "dbkit: rolled back {} migration{}, recorded in dbkit.events (rollback)\n", done.size(),
	           done.size() == 1 ? "" : "s");
	return kOk;
}

}  // namespace dbkit::client
