// dbkit mark-applied | baseline | forget | accept-change: history repair, each
// recorded with who, when and why. The server checks and records; this prints.
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "report.hpp"

namespace dbkit::client {

int cmd_repair(const Common &c, const std::string &action, const std::string &tag, const std::string &reason,
               const MigrateOptions &m) {
	bool needs_folder = action != "forget";
	nlohmann::json payload;
	if (needs_folder)
		if (int rc = load_payload(c, payload))
			return rc;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	if (int rc = take_deploy_lock(c, s, m.wait_ms, action + " failed"))
		return rc;
	ServerError err;
	std::optional<Result> r;
	std::vector<std::string> params;
	nlohmann::json opts = server_options(m);  // where drizzle's table is, as for migrate
	if (action == "forget") {
		s.conn->label_next_params({"", "--reason"});
		r = s.conn->query(fmt::format("SELECT tag, idx, action, hash FROM {}($1, $2, $3::pg_catalog.jsonb)",
		                              s.fn("dbkit_forget")),
		                  {tag, reason, s.with_lock(opts).dump()}, err);
	} else {
		const char *fn = action == "mark-applied" ? "dbkit_mark_applied"
		                 : action == "baseline"   ? "dbkit_baseline"
		                                          : "dbkit_accept_change";
		if (reason.empty())  // baseline: the reason is optional
			r = s.conn->query(fmt::format("SELECT tag, idx, action, hash FROM {}($1::pg_catalog.jsonb, $2, NULL, "
			                              "$3::pg_catalog.jsonb)",
			                              s.fn(fn)),
			                  {payload_text(payload), tag, s.with_lock(opts).dump()}, err);
		else {
			s.conn->label_next_params({"", "", "--reason"});
			r = s.conn->query(fmt::format("SELECT tag, idx, action, hash FROM {}($1::pg_catalog.jsonb, $2, $3, "
			                              "$4::pg_catalog.jsonb)",
			                              s.fn(fn)),
			                  {payload_text(payload), tag, reason, s.with_lock(opts).dump()}, err);
		}
	}
	auto notices = s.conn->take_notices();
	if (!c.json)
		print_notices(notices);
	if (!r) {
		print_server_error(action + " failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	nlohmann::json rows = nlohmann::json::array();
	for (int i = 0; i < r->rows(); ++i) {
		rows.push_back({{"tag", r->get(i, 0)}, {"idx", std::stoi(r->get(i, 1))}, {"action", r->get(i, 2)},
		                {"hash", r->get(i, 3)}});
		if (!c.json)
			fmt::print(out_stream(), "  {:<9} {}\n", r->get(i, 2), r->get(i, 0));
	}
	if (c.json)
		emit_json({{"ok", true}, {"migrations", rows}});
	else
		fmt::print(out_stream(), "dbkit: {} {}: {} history row{} changed, recorded in dbkit.events\n", action, tag, r->rows(),
		           r->rows() == 1 ? "" : "s");
	return kOk;
}

}  // namespace dbkit::client
