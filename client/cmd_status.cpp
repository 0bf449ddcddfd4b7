// dbkit status: the history, or every migration of the folder with its state.
#include <cstdio>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "report.hpp"

namespace dbkit::client {

namespace {

nlohmann::json rows_json(const Result &r) {
	nlohmann::json rows = nlohmann::json::array();
	for (int i = 0; i < r.rows(); ++i) {
		nlohmann::json row;
		for (int k = 0; k < r.cols(); ++k)
			row[r.name(k)] = r.null(i, k) ? nlohmann::json() : nlohmann::json(r.get(i, k));
		rows.push_back(row);
	}
	return rows;
}

int history_only(const Common &c, Session &s) {
	ServerError err;
	auto r = s.conn->query(fmt::format("SELECT tag, how, applied_at::pg_catalog.text, applied_by, duration_ms, statements FROM {}()",
	                                   s.fn("dbkit_status")),
	                       {}, err);
	if (!r) {
		print_server_error("status failed", err);
		return kFailed;
	}
	if (c.json) {
		emit_json({{"ok", true}, {"history", rows_json(*r)}});
		return kOk;
	}
	fmt::print("{:<40} {:<9} {:<32} {}\n", "migration", "how", "applied at", "by");
	for (int i = 0; i < r->rows(); ++i)
		fmt::print("{:<40} {:<9} {:<32} {}\n", r->get(i, 0), r->get(i, 1), r->get(i, 2), r->get(i, 3));
	fmt::print("{} migration{} recorded in {}\n", r->rows(), r->rows() == 1 ? "" : "s", s.conn->describe());
	return kOk;
}

}  // namespace

int cmd_status(const Common &c) {
	std::error_code ec;
	bool with_folder = c.dir_given || std::filesystem::is_directory(c.dir, ec);
	nlohmann::json payload;
	if (with_folder)
		if (int rc = load_payload(c, payload))
			return rc;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	if (!with_folder)
		return history_only(c, s);

	ServerError err;
	auto r = s.conn->query(fmt::format("SELECT idx, tag, state, applied_at::pg_catalog.text, how, note FROM {}($1::pg_catalog.jsonb)",
	                                   s.fn("dbkit_status")),
	                       {payload.dump()}, err);
	auto notices = s.conn->take_notices();
	if (!c.json)
		print_notices(notices);
	if (!r) {
		print_server_error("status failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	if (c.json) {
		emit_json({{"ok", true}, {"migrations", rows_json(*r)}, {"warnings", notices_json(notices)}});
		return kOk;
	}
	std::map<std::string, int> counts;
	fmt::print("{:>5}  {:<40} {:<13} {}\n", "idx", "migration", "state", "applied at");
	for (int i = 0; i < r->rows(); ++i) {
		std::string state = r->get(i, 2);
		++counts[state];
		std::string when = r->null(i, 3) ? "" : r->get(i, 3);
		std::string how = r->null(i, 4) || r->get(i, 4) == "applied" ? "" : " (" + r->get(i, 4) + ")";
		std::string note = r->null(i, 5) ? "" : "  " + r->get(i, 5);
		fmt::print("{:>5}  {:<40} {:<13} {}{}{}\n", r->get(i, 0), r->get(i, 1), state, when, how, note);
	}
	std::string summary;
	for (const char *st : {"applied", "renamed", "adoptable", "pending", "out_of_order", "modified", "missing"})
		if (counts[st])
			summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", counts[st], st);
	fmt::print("{} migration{} in {}: {}\n", r->rows(), r->rows() == 1 ? "" : "s", c.dir,
	           summary.empty() ? "none" : summary);
	return kOk;
}

int cmd_init(const Common &c) {
	Session s;
	if (int rc = open_session(c, s, /*need_extension=*/false))
		return rc;
	ServerError err;
	if (!s.conn->query("CREATE EXTENSION IF NOT EXISTS dbkit", {}, err)) {
		print_server_error("cannot create the extension", err);
		return kConnection;
	}
	print_notices(s.conn->take_notices());
	fmt::print("dbkit: extension ready in {}\n", s.conn->describe());
	return kOk;
}

}  // namespace dbkit::client
