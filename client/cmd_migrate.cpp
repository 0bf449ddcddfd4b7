// dbkit migrate: ship the folder to dbkit_apply() and report what it did.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "report.hpp"

namespace dbkit::client {

int cmd_migrate(const Common &c, const MigrateOptions &m) {
	auto t0 = std::chrono::steady_clock::now();
	nlohmann::json payload;
	if (int rc = load_payload(c, payload))
		return rc;
	Session s;
	if (int rc = open_session(c, s))
		return rc;

	nlohmann::json options = nlohmann::json::object();
	if (m.out_of_order)
		options["out_of_order"] = true;
	if (m.no_drizzle_sync)
		options["drizzle_sync"] = false;
	if (!m.drizzle_schema.empty())
		options["drizzle_schema"] = m.drizzle_schema;
	if (!m.drizzle_table.empty())
		options["drizzle_table"] = m.drizzle_table;

	ServerError err;
	auto r = s.conn->query(fmt::format("SELECT idx, tag, action, statements, duration_ms, note FROM {}($1::jsonb, "
	                                   "$2::jsonb)",
	                                   s.fn("dbkit_apply")),
	                       {payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict), options.dump()}, err);
	auto notices = s.conn->take_notices();
	double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
	if (!c.json)
		print_notices(notices);
	if (!r) {
		print_server_error("migrate failed", err);
		if (err.connection_lost)
			fmt::print(stderr, "  {:<8} {}\n", "note",
			           "The connection was lost: the server rolled the run back unless it had already committed. "
			           "Run `dbkit status` to see where the database stands.");
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}, {"warnings", notices_json(notices)}});
		return kFailed;
	}

	int applied = 0, already = 0, adopted = 0, renamed = 0, statements = 0;
	double server_ms = 0;
	nlohmann::json rows = nlohmann::json::array();
	for (int i = 0; i < r->rows(); ++i) {
		std::string action = r->get(i, 2), tag = r->get(i, 1);
		int n = r->null(i, 3) ? 0 : std::stoi(r->get(i, 3));
		double ms = r->null(i, 4) ? 0 : std::stod(r->get(i, 4));
		std::string note = r->null(i, 5) ? "" : r->get(i, 5);
		nlohmann::json row = {{"idx", std::stoi(r->get(i, 0))}, {"tag", tag}, {"action", action}};
		if (action == "applied") {
			++applied;
			statements += n;
			server_ms += ms;
			row["statements"] = n;
			row["duration_ms"] = ms;
		} else if (action == "adopted") {
			++adopted;
		} else if (action == "renamed") {
			++renamed;
		} else {
			++already;
		}
		if (!note.empty())
			row["note"] = note;
		rows.push_back(row);
		if (c.json)
			continue;
		if (action == "applied")
			fmt::print("  applied  {:<40} {:>4} statement{}  {:>9}{}\n", tag, n, n == 1 ? " " : "s", human_ms(ms),
			           note.empty() ? "" : "  (" + note + ")");
		else if (action == "adopted" || action == "renamed")
			fmt::print("  {:<8} {:<40} {}\n", action, tag, note);
		else if (m.verbose)
			fmt::print("  ok       {}\n", tag);
	}
	if (c.json) {
		emit_json({{"ok", true},
		           {"applied", applied},
		           {"adopted", adopted},
		           {"already_applied", already},
		           {"renamed", renamed},
		           {"statements", statements},
		           {"duration_ms", total_ms},
		           {"migrations", rows},
		           {"warnings", notices_json(notices)}});
		return kOk;
	}
	if (applied == 0 && adopted == 0 && renamed == 0)
		fmt::print("dbkit: nothing to apply: {} migration{} already applied ({})\n", already, already == 1 ? "" : "s",
		           human_ms(total_ms));
	else
		fmt::print("dbkit: applied {} migration{} ({} statements, {} in SQL){}{}{}, total {}\n", applied,
		           applied == 1 ? "" : "s", statements, human_ms(server_ms),
		           adopted ? fmt::format(", adopted {} from drizzle", adopted) : "",
		           renamed ? fmt::format(", followed {} renamed", renamed) : "",
		           already ? fmt::format(", {} already applied", already) : "", human_ms(total_ms));
	return kOk;
}

}  // namespace dbkit::client
