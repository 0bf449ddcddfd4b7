// dbkit schema-ddl --snapshot FILE (hidden, for development and the e2e tests of
// issue #10): the DDL that builds the schema a drizzle-kit snapshot declares, in
// an empty database, separated by "--> statement-breakpoint" like a migration
// file. Warnings (what is declared but not built) go to stderr. No database.
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/json.hpp"
#include "core/snapshot_ddl.hpp"
#include "exit_codes.hpp"

namespace dbkit::client {

int cmd_schema_ddl(const std::string &snapshot_path) {
	std::ifstream in(snapshot_path, std::ios::binary);
	if (!in) {
		fmt::print(stderr, "dbkit: cannot read {}\n", snapshot_path);
		return kUsage;
	}
	std::stringstream text;
	text << in.rdbuf();
	std::string s = text.str();
	core::JsonValue snap;
	core::JsonError jerr;
	if (!core::parse_json(s, snap, jerr)) {
		fmt::print(stderr, "dbkit: {}:{}:{}: {}\n", snapshot_path, jerr.line, jerr.column, jerr.message);
		return kInvalid;
	}
	core::SnapshotDdl ddl;
	std::string error;
	if (!core::snapshot_to_ddl(snap, ddl, error)) {
		fmt::print(stderr, "dbkit: {}: {}\n", snapshot_path, error);
		return kInvalid;
	}
	for (const auto &w : ddl.warnings)
		fmt::print(stderr, "warning: {}\n", w);
	std::string out = core::join_ddl(ddl.statements);
	fmt::print("{}{}", out, out.empty() ? "" : "\n");
	return kOk;
}

}  // namespace dbkit::client
