// dbkit migrate --rehearse: every pending migration run up, down, up inside a
// transaction that is rolled back (dbkit_rehearse); the schema must be the same
// after the down as before the up. Exit 1 when a down file is wrong or fails; a
// migration that could not be rehearsed (irreversible, no down file, or after one of
// those) is counted apart: exit 0, but the summary says "passed for K of N".
// dbkit down TAG --write: the down file computed by the engine (dbkit_reverse).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "report.hpp"
#include "schema_plan.hpp"

namespace dbkit::client {

int cmd_rehearse(const Common &c, const MigrateOptions &m) {
	nlohmann::json payload;
	if (int rc = load_payload(c, payload))
		return rc;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	if (int rc = take_deploy_lock(c, s, m.wait_ms, "rehearsal failed"))
		return rc;
	ServerError err;
	auto r = s.conn->query(fmt::format("SELECT tag, result, detail FROM {}($1::pg_catalog.jsonb, $2::pg_catalog.jsonb)",
	                                   s.fn("dbkit_rehearse")),
	                       {payload_text(payload), s.with_lock(server_options(m)).dump()}, err);
	if (!r) {
		print_server_error("rehearsal failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	// Each row's result: ok (rehearsed: up, down, up), wrong or failed (the rehearsal fails), or
	// irreversible, no down file, not rehearsed (what comes after either): not covered, which is no
	// failure of the migrations but no proof either, so the summary counts what was proven.
	bool bad = false;
	int passed = 0;
	std::vector<std::pair<std::string, int>> counts;  // by result, in the order below, then any other
	for (const char *known : {"ok", "wrong", "failed", "irreversible", "no down file", "not rehearsed"})
		counts.emplace_back(known, 0);
	nlohmann::json rows = nlohmann::json::array();
	for (int i = 0; i < r->rows(); ++i) {
		std::string result = r->get(i, 1);
		bad |= result == "wrong" || result == "failed";
		passed += result == "ok";
		auto it = std::find_if(counts.begin(), counts.end(), [&](const auto &p) { return p.first == result; });
		if (it == counts.end())
			counts.emplace_back(result, 1);
		else
			++it->second;
		rows.push_back({{"tag", r->get(i, 0)}, {"result", result}, {"detail", r->null(i, 2) ? "" : r->get(i, 2)}});
		if (!c.json)
			fmt::print(out_stream(), "  {:<14} {:<40} {}\n", result, r->get(i, 0), r->null(i, 2) ? "" : r->get(i, 2));
	}
	int pending = r->rows();
	bool complete = passed == pending;
	std::string pending_text = fmt::format("{} pending migration{}", pending, pending == 1 ? "" : "s");
	std::string breakdown;  // "1 irreversible, 2 not rehearsed (see their notes)"
	bool with_notes = false;
	for (const auto &[result, n] : counts) {
		if (!n || (result == "ok" && !bad))
			continue;
		breakdown += fmt::format("{}{} {}", breakdown.empty() ? "" : ", ", n, result == "ok" ? "passed" : result);
		with_notes |= result != "ok";
	}
	if (with_notes)
		breakdown += " (see their notes)";
	std::string summary;
	if (pending == 0)
		summary = "nothing pending to rehearse";
	else if (bad)
		summary = fmt::format("rehearsal FAILED for {}: {}; all rolled back", pending_text, breakdown);
	else if (complete)
		summary = fmt::format("rehearsal passed: up, down, up for {}, all rolled back", pending_text);
	else if (passed == 0)
		summary = fmt::format("nothing rehearsed of {}: {}; all rolled back", pending_text, breakdown);
	else
		summary = fmt::format("rehearsal passed for {} of {}: {}; all rolled back", passed, pending_text, breakdown);
	if (c.json) {
		nlohmann::json by_result = nlohmann::json::object();
		for (const auto &[result, n] : counts)
			by_result[result] = n;
		emit_json({{"ok", !bad},
		           {"complete", complete},
		           {"pending", pending},
		           {"passed", passed},
		           {"results", by_result},
		           {"summary", summary},
		           {"rehearsed", rows}});
	} else {
		fmt::print(out_stream(), "dbkit: {}\n", summary);
	}
	// Exit 0 when nothing was found wrong, even if not every migration could be rehearsed: an
	// irreversible down file is a decision a human made, not a failure; the summary says what was left.
	return bad ? kFailed : kOk;
}

int cmd_down(const Common &c, const std::string &tag, const SchemaOptions &o, bool write, bool force) {
	nlohmann::json payload;
	if (int rc = load_payload(c, payload))
		return rc;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	ServerError err;
	auto r = s.conn->query(fmt::format("SELECT kind, step, statement, note FROM {}($1::pg_catalog.jsonb, $2, "
	                                   "$3::pg_catalog.jsonb)",
	                                   s.fn("dbkit_reverse")),
	                       {payload_text(payload), tag, s.with_lock(engine_options(o)).dump()}, err);
	if (!r) {
		print_server_error("down failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	std::vector<std::string> irreversible;
	std::string body;
	int n = 0;
	for (int i = 0; i < r->rows(); ++i) {
		std::string note = r->null(i, 3) ? "" : r->get(i, 3);
		if (r->get(i, 0) == "irreversible") {
			irreversible.push_back(note);
			continue;
		}
		if (n++)
			body += "\n--> statement-breakpoint\n";
		if (!note.empty())
			body += "-- hazard: " + note + "\n";
		body += r->get(i, 2) + ";";
	}
	std::string text = fmt::format("-- the reverse of {}, computed by dbkit down from the schemas after and before it\n",
	                               tag);
	if (!irreversible.empty()) {
		text += "-- dbkit:irreversible: a human must decide; dbkit rollback refuses this file until the marker is "
		        "removed\n";
		for (const auto &why : irreversible)
			text += "--   " + why + "\n";
	}
	text += body + (body.empty() ? "" : "\n");
	// where the down file goes: <tag>.down.sql beside a journal migration, <folder>/down.sql
	namespace fs = std::filesystem;
	fs::path dir(c.dir), target = dir / (tag + ".down.sql");
	std::error_code ec;
	if (fs::is_directory(dir / tag, ec))
		target = dir / tag / "down.sql";
	if (c.json) {
		emit_json({{"ok", true}, {"file", target.string()}, {"sql", text}, {"irreversible", irreversible},
		           {"written", write}});
	} else if (!write) {
		fmt::print("{}", text);
	}
	if (!write)
		return kOk;
	if (fs::exists(target, ec) && !force) {
		fmt::print(stderr, "dbkit: {} exists; nothing was written (--force replaces it)\n", target.string());
		return kFailed;
	}
	std::ofstream f(target, std::ios::binary | std::ios::trunc);
	f << text;
	if (!f) {
		fmt::print(stderr, "dbkit: cannot write {}\n", target.string());
		return kFailed;
	}
	if (!c.json) {
		fmt::print("dbkit down: wrote {} ({} statement{}{})\n", target.string(), n, n == 1 ? "" : "s",
		           irreversible.empty() ? "" : fmt::format(", marked irreversible: {} thing{} it cannot give back",
		                                                   irreversible.size(), irreversible.size() == 1 ? "" : "s"));
		for (const auto &why : irreversible)
			fmt::print("  irreversible  {}\n", why);
	}
	return kOk;
}

}  // namespace dbkit::client
