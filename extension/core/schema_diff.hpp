// The schema diff (issue 10, "schema engine"): the DDL that takes a database
// whose dbkit.snapshot() is `from` to one whose dbkit.snapshot() is `to`.
// Both sides come from the same catalog reader (the live database, and the
// desired schema built in a rolled-back shadow), so definitions compare as text:
// pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef, pg_get_functiondef and
// pg_get_triggerdef are reused as they are, identifiers stay as the snapshot
// spells them (quote_ident'ed, qualified). See docs/design.md "The schema diff".
#pragma once
#include <string>
#include <vector>

#include "json.hpp"

namespace dbkit::core {

// A rename the user declares (--rename FROM=TO): FROM is qualified as in the
// snapshot's keys, TO is the new last name (spelled as quote_ident would):
//   "public.users.bio" -> "about"     column
//   "public.posts"     -> "articles"  table
//   "public.posts"     -> "blog.posts" table moved to another schema (and renamed, if the name differs)
//   "public.mood.sad"  -> "unhappy"   enum value (quotes around the labels are optional)
struct Rename {
	std::string from, to;
};

// Parses "public.users.bio=about"; false when there is no '=' or a side is empty.
bool parse_rename(const std::string &spec, Rename &out);

struct DiffOptions {
	std::vector<Rename> renames;
	// Indexes (and primary keys / unique constraints) on tables that exist on the
	// `from` side are built CONCURRENTLY, each in its own statement outside a transaction.
	bool concurrent_indexes = true;
	// The user declares that the columns/tables lost and gained are unrelated:
	// drop and add them instead of refusing.
	bool drop_and_add = false;
	// The whole plan runs in one transaction (push): an enum that gains values is
	// created again instead of ALTER TYPE ... ADD VALUE, whose values cannot be used
	// (a default, a check) before the transaction that added them commits.
	bool one_transaction = false;
	// The `to` side is a drizzle snapshot (generate --from-snapshot), which declares tables,
	// columns, keys, indexes, enums, sequences, views and policies, never what hand-written
	// or --custom migrations add (functions, triggers, grants, owners, comments, or a table
	// schema.ts does not know): what `from` has and `to` cannot or does not declare is kept.
	// The plan adds and changes what the snapshot declares; it drops nothing.
	bool keep_undeclared = false;
};

// `to` with what keep_undeclared keeps of `from` (see DiffOptions).
JsonValue with_undeclared(const JsonValue &from, const JsonValue &to);

enum class Hazard { DataLoss, TableRewrite, IndexBuild, AccessExclusive, Validation, FailsOnData, NoTransaction };
const char *hazard_name(Hazard h);  // "data loss", "table rewrite", ...

struct DiffStatement {
	std::string sql;                   // ready to run, without the trailing ';'
	std::vector<std::string> hazards;  // for people: "data loss: drops column public.users.bio", ...
	std::vector<Hazard> hazard_kinds;  // the same, for programs (one per kind, no repeats)
	bool no_transaction = false;       // must run outside a transaction block (its own migration)
	std::string object;                // the snapshot key it concerns, e.g. "column:public.users.bio"
	bool data_loss = false;            // drops a table/column/enum value, or a type change that can fail or truncate
	std::string table_for_rowcount;    // for a data-loss statement: the table whose rows are at stake
	std::string comment;               // why the statement is there when it is not obvious ("-- ..." without the dashes)
};

// A change the diff will not plan on its own: an ambiguous drop+add (rename?), or
// a kind of object it cannot alter. `hint` is what resolves it (the exact flag).
struct DiffRefusal {
	std::string object, message, hint;
};

// When `refusals` is not empty, `statements` is empty: nothing half-planned is handed out.
struct DiffResult {
	std::vector<DiffStatement> statements;
	std::vector<DiffRefusal> refusals;
};

// from = current schema, to = desired; both dbkit.snapshot() objects. The keys
// "dbkit:format" and "default_privileges:*" and the members "owner" and "acl" are ignored.
// A member "comment" is planned as COMMENT ON, last; a side whose "dbkit:format" has
// "comments": false (a drizzle snapshot's schema, which cannot declare any) keeps
// the other side's comments.
DiffResult diff_schemas(const JsonValue &from, const JsonValue &to, const DiffOptions &opts = {});

// The plan as one SQL script, for people and for the round-trip scripts: each
// statement followed by ';', hazards and comments as "-- " lines; statements that
// must run outside a transaction are preceded by "-- dbkit:no-transaction".
std::string render_plan(const DiffResult &r);

// A statement's data-loss lines ("data loss: ..."), joined by "; ": what a refusal names,
// not the statement's first hazard (a rewrite or a lock); its object when it has none.
std::string data_loss_text(const DiffStatement &s);

}  // namespace dbkit::core
