// dbkit drift: the live schema against what the migrations left (always) and,
// with a folder, against the code's schema as PostgreSQL builds it in a shadow.
// Exit 0: no drift; 4: drift found; 1: cannot compare (the live side failed, or
// --dir was given and the code's side could not be built). Differences between a
// folder's snapshot and its migrations are shown apart and are not drift.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include <set>
#include <cctype>
#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "report.hpp"
#include "schema_plan.hpp"

namespace dbkit::client {

namespace {
std::vector<Notice> warnings_only(std::vector<Notice> notices) {
	notices.erase(std::remove_if(notices.begin(), notices.end(), [](const Notice &n) { return n.severity != "WARNING"; }),
	              notices.end());
	return notices;
}

nlohmann::json parse_or_null(const Result &r, int row, int col) {
	if (r.null(row, col))
		return nullptr;
	return nlohmann::json::parse(r.get(row, col), nullptr, false);
}

std::vector<int> all_rows(const Result &r) {
	std::vector<int> v;
	for (int i = 0; i < r.rows(); ++i)
		v.push_back(i);
	return v;
}

void print_rows(const Result &r, bool with_audit, const std::vector<int> &which) {
	for (int i : which) {
		fmt::print(out_stream(), "  {:<9} {:<11} {:<44} {}\n", r.get(i, 2), r.get(i, 0), r.get(i, 1), r.get(i, 3));
		if (!with_audit)
			continue;
		nlohmann::json audit = parse_or_null(r, i, 6);
		if (!audit.is_array())
			continue;
		std::set<std::string> printed;  // one line per command, never the same line twice
		for (const auto &a : audit) {
			auto s = [&](const char *k) { return a.contains(k) && a[k].is_string() ? a[k].get<std::string>() : ""; };
			std::string stmt = s("statement");
			// a query string of several commands (psql -c 'CREATE ...; ALTER ...'): which one
			std::string command = s("command"), object = s("object"), head;
			size_t lead = stmt.find_first_not_of(" \t\r\n");
			bool starts = lead != std::string::npos && stmt.size() - lead >= command.size() &&
			              std::equal(command.begin(), command.end(), stmt.begin() + lead, [](char x, char y) {
				              return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
			              });
			if (!command.empty() && (!starts || stmt.find(';', lead) < stmt.find_last_not_of(" \t\r\n;")))
				head = command + (object.empty() ? "" : " " + object) + ", in: ";
			if (stmt.size() > 100)
				stmt = stmt.substr(0, 100) + "...";
			for (auto &c : stmt)
				if (c == '\n')
					c = ' ';
			std::string line = fmt::format("  {:<9} by {} ({}{}) at {}: {}{}\n", "", s("session_user"),
			                               s("application_name").empty() ? "no application_name" : s("application_name"),
			                               s("client_addr").empty() ? "" : ", " + s("client_addr"), s("at"), head, stmt);
			if (printed.insert(line).second)
				std::fputs(line.c_str(), out_stream());
		}
	}
}

nlohmann::json rows_json(const Result &r, bool with_audit, const std::vector<int> &which) {
	nlohmann::json out = nlohmann::json::array();
	for (int i : which) {
		nlohmann::json row = {{"kind", r.get(i, 0)}, {"object", r.get(i, 1)}, {"change", r.get(i, 2)},
		                      {"detail", r.get(i, 3)}, {"expected", parse_or_null(r, i, 4)},
		                      {"actual", parse_or_null(r, i, 5)}};
		if (with_audit)
			row["audit"] = parse_or_null(r, i, 6);
		out.push_back(row);
	}
	return out;
}

}  // namespace

int cmd_drift(const Common &c) {
	std::error_code ec;
	bool with_folder = c.dir_given || std::filesystem::is_directory(c.dir, ec);
	nlohmann::json payload;
	if (with_folder) {
		try {
			payload = read_folder(c.dir, ReadOptions{true, nullptr});
		} catch (const FolderError &e) {
			fmt::print(err_stream(), "dbkit: {}\n", e.what());
			if (c.json)
				emit_json({{"ok", false}, {"error", {{"message", e.what()}, {"kind", "folder"}}}});
			return e.bad_content ? kFailed : kUsage;
		}
	}
	Session s;
	if (int rc = open_session(c, s))
		return rc;

	ServerError err;
	auto db = s.conn->query(fmt::format("SELECT kind, object, change, detail, expected::pg_catalog.text, actual::pg_catalog.text, audit::pg_catalog.text "
	                                    "FROM {}()",
	                                    s.fn("dbkit_drift")),
	                        {}, err);
	// No reference recorded yet (DK008): with a folder, the comparison with the
	// code can still be made; that side is then reported, this one as unavailable.
	std::string live_unavailable;
	if (!db) {
		if (err.sqlstate != "DK008" || !with_folder) {
			print_server_error("drift check failed", err);
			if (c.json)
				emit_json({{"ok", false}, {"error", server_error_json(err)}});
			return kFailed;
		}
		live_unavailable = err.message + (err.hint.empty() ? "" : " (" + err.hint + ")") + " [SQLSTATE DK008]";
	}
	// Against the code, as PostgreSQL builds it in the shadow: what the folder's
	// migrations build and, when it has one, what its newest drizzle snapshot
	// declares. Rows whose source starts with "folder: " are differences between
	// the snapshot and the migrations (hand-written migrations after it): the
	// folder's business, reported apart, never drift.
	std::optional<Result> code;
	std::string code_unavailable;
	bool code_failed = false;  // --dir was given, yet the comparison failed
	std::vector<int> code_drift, folder_rows;
	std::string code_source;
	if (with_folder) {
		code = s.conn->query(fmt::format("SELECT kind, object, change, detail, expected::pg_catalog.text, "
		                                 "actual::pg_catalog.text, snapshot FROM {}($1::pg_catalog.jsonb)",
		                                 s.fn("dbkit_drift_code")),
		                     {payload_text(payload)}, err);
		if (!code) {
			code_failed = c.dir_given;
			code_unavailable = err.message + (err.hint.empty() ? "" : " (" + err.hint + ")");
			if (!err.sqlstate.empty())
				code_unavailable += " [SQLSTATE " + err.sqlstate + "]";
		} else {
			for (int i = 0; i < code->rows(); ++i) {
				std::string src = code->get(i, 6);
				if (src.rfind("folder: ", 0) == 0)
					folder_rows.push_back(i);
				else {
					code_drift.push_back(i);
					// the snapshot's name over "migrations" (rows of objects it does not declare,
					// compared with what the migrations built)
					if (code_source.empty() || code_source == "migrations")
						code_source = src;
				}
			}
		}
	}
	// the server's warnings say what a comparison could not cover (a snapshot PostgreSQL
	// cannot build, files the journal does not list): never dropped. Its notices are the
	// shadow's build of the migrations (names truncated, ...), which the deploy showed.
	auto notices = warnings_only(s.conn->take_notices());
	int total = (db ? db->rows() : 0) + int(code_drift.size());
	int rc = total ? kDrift : code_failed || !db ? kFailed : kOk;
	if (c.json) {
		// ok: every comparison asked for was made (drift found is an answer; exit 4)
		nlohmann::json j = {{"ok", db && !code_failed}, {"drift", total > 0},
		                    {"migrations", db ? rows_json(*db, true, all_rows(*db)) : nlohmann::json(nullptr)}};
		if (!notices.empty())
			j["warnings"] = notices_json(notices);
		if (!db)
			j["migrations_unavailable"] = live_unavailable;
		if (code) {
			j["code"] = rows_json(*code, false, code_drift);
			j["code_snapshot"] = code_source;
			nlohmann::json f = rows_json(*code, false, folder_rows);
			for (size_t k = 0; k < folder_rows.size(); ++k)
				f[k]["why"] = code->get(folder_rows[k], 6).substr(8);
			j["folder"] = f;
		} else if (with_folder) {
			j["code"] = nullptr;
			j["code_unavailable"] = code_unavailable;
		}
		emit_json(j);
		return rc;
	}
	print_notices(notices);
	if (!db) {
		fmt::print(out_stream(), "dbkit drift: the comparison with what the migrations left is unavailable: {}\n", live_unavailable);
	} else if (db->rows()) {
		fmt::print(out_stream(), "dbkit drift: {} difference{} between the live schema and what the migrations left:\n", db->rows(),
		           db->rows() == 1 ? "" : "s");
		print_rows(*db, true, all_rows(*db));
	} else {
		fmt::print(out_stream(), "dbkit drift: the live schema is what the migrations left\n");
	}
	if (code) {
		if (!code_drift.empty()) {
			fmt::print(out_stream(), "dbkit drift: {} difference{} between the live schema and the code ({}, built by PostgreSQL):\n",
			           code_drift.size(), code_drift.size() == 1 ? "" : "s", code_source);
			print_rows(*code, false, code_drift);
		} else {
			// pending migrations no snapshot covers are not compared: said, not left silent (sweep 7)
			std::string pending;
			if (folder_rows.empty()) {
				ServerError ignored;
				auto p = s.conn->query(
				    fmt::format("SELECT pg_catalog.count(*) FROM {}($1::pg_catalog.jsonb, '{{}}'::pg_catalog.jsonb) "
				                "WHERE state OPERATOR(pg_catalog.=) ANY ('{{pending,out_of_order}}'::pg_catalog.text[])",
				                s.fn("dbkit_status")),
				    {payload_text(payload)}, ignored);
				if (p && p->rows() == 1 && p->get(0, 0) != "0")
					pending = fmt::format(" (its applied migrations; {} pending, compared once applied: dbkit status --dir "
					                      "lists {})",
					                      p->get(0, 0), p->get(0, 0) == "1" ? "it" : "them");
			}
			fmt::print(out_stream(), "dbkit drift: the live schema matches the code in {}{}, as PostgreSQL builds it\n",
			           c.dir, pending);
		}
		if (!folder_rows.empty()) {
			fmt::print(out_stream(), "dbkit drift: not drift, but {}:\n", code->get(folder_rows[0], 6).substr(8));
			print_rows(*code, false, folder_rows);
		}
	} else if (with_folder) {
		fmt::print(out_stream(), "dbkit drift: the comparison with the code is unavailable: {}\n", code_unavailable);
	}
	return rc;
}

}  // namespace dbkit::client

namespace dbkit::client {

int cmd_accept_drift(const Common &c, const std::string &reason) {
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	if (int rc = take_deploy_lock(c, s, -1, "accept-drift failed"))
		return rc;
	ServerError err;
	s.conn->label_next_params({"--reason"});
	auto r = s.conn->query(fmt::format("SELECT objects, fingerprint FROM {}($1)", s.fn("dbkit_accept_drift")), {reason},
	                       err);
	if (!r) {
		print_server_error("accept-drift failed", err);
		return kFailed;
	}
	if (c.json)
		emit_json({{"ok", true}, {"objects", std::stoi(r->get(0, 0))}, {"fingerprint", r->get(0, 1)}});
	else
		fmt::print(out_stream(), "dbkit: the live schema ({} objects, fingerprint {}) is now the reference for dbkit drift\n",
		           r->get(0, 0), r->get(0, 1).substr(0, 12));
	return kOk;
}

}  // namespace dbkit::client

namespace dbkit::client {

// dbkit drift --schema FILE: the live schema against what FILE builds, as
// PostgreSQL builds it (dbkit_drift_schema). Exit 4 on a difference.
int cmd_drift_schema(const Common &c, const std::string &schema_file) {
	auto sql = read_schema_file(schema_file, c.json);
	if (!sql)
		return kUsage;
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	ServerError err;
	s.conn->label_next_params({schema_file});
	auto r = s.conn->query(fmt::format("SELECT kind, object, change, detail, expected::pg_catalog.text, "
	                                   "actual::pg_catalog.text, schema FROM {}($1, $2::pg_catalog.jsonb)",
	                                   s.fn("dbkit_drift_schema")),
	                       {*sql, nlohmann::json{{"name", schema_file}}.dump()}, err);
	if (!r) {
		print_server_error("drift check failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	auto notices = warnings_only(s.conn->take_notices());
	if (c.json) {
		nlohmann::json j = {{"ok", true}, {"drift", r->rows() > 0}, {"schema", rows_json(*r, false, all_rows(*r))}};
		if (!notices.empty())
			j["warnings"] = notices_json(notices);
		emit_json(j);
		return r->rows() ? kDrift : kOk;
	}
	print_notices(notices);
	if (r->rows()) {
		fmt::print(out_stream(), "dbkit drift: {} difference{} between the live schema and {} (built by PostgreSQL):\n",
		           r->rows(), r->rows() == 1 ? "" : "s", schema_file);
		print_rows(*r, false, all_rows(*r));
	} else {
		fmt::print(out_stream(), "dbkit drift: the live schema is what {} builds\n", schema_file);
	}
	return r->rows() ? kDrift : kOk;
}

}  // namespace dbkit::client
