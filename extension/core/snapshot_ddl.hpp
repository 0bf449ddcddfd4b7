// The DDL that builds, in an empty database, the schema a drizzle-kit snapshot
// declares (issue #10: the "desired" side of the schema engine). PostgreSQL runs
// it inside a shadow and dbkit compares catalogs, never SQL text.
//
// Formats: "5", "6", "7" (drizzle-kit 0.x, meta/NNNN_snapshot.json), "8"
// (drizzle-kit 1.0 rc, <migration>/snapshot.json) and "9" of type "base" (what the
// npm release 1.0.0-rc.5 writes for a folder's first migration: the same entity
// list as "8"). A "9" of type "diff" holds only deltas against its parents and is
// refused: the chain has to be replayed first. The statements are spelled as
// drizzle-kit's own SQL generator spells a fresh database's migration, so that
// PostgreSQL ends with the catalog drizzle's migrations would have left; where we
// differ (always schema-qualified names, CREATE SCHEMA IF NOT EXISTS, no
// CONCURRENTLY, no CREATE ROLE) the catalog does not.
//
// "The database" the DDL expects: every schema it names is empty or absent,
// `public` exists, and every role a policy names exists (roles are cluster-wide:
// they are never created here, see the warnings).
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"

namespace dbkit::core {

struct SnapshotDdl {
	std::vector<std::string> statements;  // each a complete statement ending in ';'
	std::vector<std::string> warnings;    // what was declared but not built, and why
};

// Where a snapshot is ambiguous, what the database has: each table's primary key named
// otherwise than <table>_pkey (keyed by table_key(schema, table)). Named like a unique
// constraint the snapshot declares on the same columns, PostgreSQL folded the two (both
// were in CREATE TABLE); else a primary key declared on its column, which a snapshot
// does not name, kept the name of a table renamed since.
struct SnapshotDdlHints {
	std::map<std::string, std::string> primary_key_names;
};
std::string table_key(const std::string &schema, const std::string &table);

// Fills `out` and returns true; or returns false with `error` naming the JSON path
// of the first field that cannot be turned into DDL ("tables.public.users.columns.id.type",
// "ddl[12].columns"). `out` is cleared first.
bool snapshot_to_ddl(const JsonValue &snapshot, SnapshotDdl &out, std::string &error,
                     const SnapshotDdlHints &hints = {});

// The statements joined the way drizzle-kit writes a migration file: separated by
// "\n--> statement-breakpoint\n".
std::string join_ddl(const std::vector<std::string> &statements);

// "name" with embedded double quotes doubled (drizzle-kit quotes every identifier).
std::string ddl_ident(std::string_view name);

}  // namespace dbkit::core
