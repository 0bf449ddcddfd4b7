// dbkit check: every finding about a folder, from the server (parser and
// history included) or, with --offline, from the same server-free rules
// compiled into the client.
#include <cstdio>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/folder.hpp"
#include "core/drizzle_snapshots.hpp"
#include "exit_codes.hpp"
#include "folder_reader.hpp"
#include "report.hpp"

namespace dbkit::client {

namespace {

// What --offline cannot see, and why.
const char *kSkippedOffline[] = {
    "migration.syntax_error, migration.no_transaction, migration.transaction_control, migration.transaction_wrapper, migration.own_transactions, migration.copy_stdio, "
    "migration.dbkit_objects: need "
    "PostgreSQL's parser",
    "history.modified, history.missing, history.out_of_order, drizzle.unmatched_row: need the database",
};

int report(const Common &c, const std::vector<core::Finding> &findings, const std::vector<std::string> &skipped) {
	int errors = 0, warnings = 0;
	for (const auto &f : findings)
		(f.severity == core::Severity::Error ? errors : warnings)++;
	if (c.json) {
		nlohmann::json list = nlohmann::json::array();
		for (const auto &f : findings)
			list.push_back({{"severity", core::severity_name(f.severity)},
			                {"code", f.code},
			                {"subject", f.subject},
			                {"message", f.message},
			                {"hint", f.hint}});
		emit_json({{"ok", errors == 0},
		           {"errors", errors},
		           {"warnings", warnings},
		           {"findings", list},
		           {"skipped", skipped}});
	} else {
		for (const auto &f : findings) {
			fmt::print(out_stream(), "{:<8} {:<30} {}\n", core::severity_name(f.severity), f.code, f.message);
			if (!f.hint.empty())
				fmt::print(out_stream(), "{:<8} {:<30} hint: {}\n", "", "", f.hint);
		}
		for (const auto &s : skipped)
			fmt::print(out_stream(), "skipped  {}\n", s);
		fmt::print(out_stream(), "dbkit check: {} error{}, {} warning{} in {}\n", errors, errors == 1 ? "" : "s", warnings,
		           warnings == 1 ? "" : "s", c.dir);
	}
	return errors ? kInvalid : kOk;
}

}  // namespace

int cmd_check(const Common &c, bool offline) {
	std::vector<core::Finding> findings;
	nlohmann::json payload;
	try {
		payload = read_folder(c.dir, ReadOptions{true, &findings});
	} catch (const FolderError &e) {
		fmt::print(err_stream(), "dbkit: {}\n", e.what());
		if (c.json)
			emit_json({{"ok", false}, {"error", {{"message", e.what()}, {"kind", "folder"}}}});
		return e.bad_content ? kFailed : kUsage;  // as every other command: 2 only for a missing folder
	}
	if (offline) {
		core::FolderInput in = folder_input(payload);
		core::Folder folder = core::load_folder(in);
		for (auto &f : folder.findings)
			findings.push_back(std::move(f));
		for (auto &f : core::check_drizzle_snapshots(in, folder))
			findings.push_back(std::move(f));
		for (auto &f : core::check_files(folder))
			findings.push_back(std::move(f));
		return report(c, findings, {std::begin(kSkippedOffline), std::end(kSkippedOffline)});
	}
	Session s;
	if (int rc = open_session(c, s))
		return rc;
	ServerError err;
	auto r = s.conn->query(
	    fmt::format("SELECT severity, code, subject, message, hint FROM {}($1::pg_catalog.jsonb)", s.fn("dbkit_validate")),
	    {payload_text(payload)}, err);
	auto notices = s.conn->take_notices();
	if (!r) {
		print_server_error("check failed", err);
		if (c.json)
			emit_json({{"ok", false}, {"error", server_error_json(err)}});
		return kFailed;
	}
	for (int i = 0; i < r->rows(); ++i)
		findings.push_back({r->get(i, 0) == "error" ? core::Severity::Error : core::Severity::Warning, r->get(i, 1),
		                    r->get(i, 2), r->get(i, 3), r->get(i, 4)});
	std::vector<std::string> skipped;
	for (const auto &n : notices)
		skipped.push_back(n.message);
	return report(c, findings, skipped);
}

}  // namespace dbkit::client
