// dbkit lint: the pending migrations of the folder through the server's linter.
// Exit 5 when a finding is an error (a waiver comment in the file drops it).
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "report.hpp"

namespace dbkit::client {

int cmd_lint(const Common &c, bool show_info) {
	nlohmann::json payload;
	if (int rc = load_payload(c, payload))
		return rc;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	ServerError err;
	auto r = s.conn->query(fmt::format("SELECT tag, file, severity, rule, statement, line, message, hint FROM {}($1::pg_catalog.jsonb)",
	                                   s.fn("dbkit_lint_folder")),
	                       {payload_text(payload)}, err);
	if (!r) {
		print_server_error("lint failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	int errors = 0, warnings = 0;
	nlohmann::json list = nlohmann::json::array();
	for (int i = 0; i < r->rows(); ++i) {
		std::string sev = r->get(i, 2);
		errors += sev == "error";
		warnings += sev == "warning";
		list.push_back({{"tag", r->get(i, 0)}, {"file", r->get(i, 1)}, {"severity", sev}, {"rule", r->get(i, 3)},
		                {"statement", std::stoi(r->get(i, 4))}, {"line", std::stoi(r->get(i, 5))},
		                {"message", r->get(i, 6)}, {"hint", r->get(i, 7)}});
		if (c.json || (sev == "info" && !show_info))
			continue;
		// messages about the whole file (a syntax error, its transaction control) name it already
		const std::string file = r->get(i, 1), message = r->get(i, 6);
		bool named = message.rfind(file + ":", 0) == 0 || message.rfind(file + ",", 0) == 0;
		fmt::print(out_stream(), "{:<8} {:<26} {}{}\n", sev, r->get(i, 3), named ? "" : file + ": ", message);
		fmt::print(out_stream(), "{:<8} {:<26} hint: {}\n", "", "", r->get(i, 7));
	}
	if (c.json)
		emit_json({{"ok", errors == 0}, {"errors", errors}, {"warnings", warnings}, {"findings", list}});
	else
		fmt::print(out_stream(), "dbkit lint: {} error{}, {} warning{} in the pending migrations of {}\n", errors,
		           errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s", c.dir);
	return errors ? kInvalid : kOk;
}

}  // namespace dbkit::client
