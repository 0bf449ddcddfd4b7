// dbkit migrate --rehearse: every pending migration run up, down, up inside a
// transaction that is rolled back (dbkit_rehearse); the schema must be the same
// after the down as before the up. Exit 1 when a down file is wrong or fails.
// dbkit down TAG --write: the down file computed by the engine (dbkit_reverse).
#include <cstdio>
#include <filesystem>
#include <fstream>

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
	                       {payload_text(payload), server_options(m).dump()}, err);
	if (!r) {
		print_server_error("rehearsal failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	bool bad = false;
	nlohmann::json rows = nlohmann::json::array();
	for (int i = 0; i < r->rows(); ++i) {
		std::string result = r->get(i, 1);
		bad |= result == "wrong" || result == "failed";
		rows.push_back({{"tag", r->get(i, 0)}, {"result", result}, {"detail", r->null(i, 2) ? "" : r->get(i, 2)}});
		if (!c.json)
			fmt::print("  {:<14} {:<40} {}\n", result, r->get(i, 0), r->null(i, 2) ? "" : r->get(i, 2));
	}
	if (c.json)
		emit_json({{"ok", !bad}, {"rehearsed", rows}});
	else if (r->rows() == 0)
		fmt::print("dbkit: nothing pending to rehearse\n");
	else
		fmt::print("dbkit: rehearsal {}: up, down, up for {} pending migration{}, all rolled back\n",
		           bad ? "FAILED" : "passed", r->rows(), r->rows() == 1 ? "" : "s");
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
	                       {payload_text(payload), tag, engine_options(o).dump()}, err);
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
