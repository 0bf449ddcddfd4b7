// Describing schema drift: one snapshot entry ("<kind>:<name>" -> attributes)
// as the migrations left it against what is there now.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace dbkit::core {

struct DriftItem {
	std::string kind;    // table, column, index, ...
	std::string name;    // qualified name
	std::string change;  // added | removed | changed
	std::string detail;  // for people: "type: integer -> bigint; not_null: false -> true"
};

// `expected`/`actual` are the entry's JSON text, absent when the object is not there.
DriftItem describe_drift(std::string_view key, const std::optional<std::string> &expected,
                         const std::optional<std::string> &actual);

// Does a DDL audit entry (object_identity as event triggers report it) concern
// the drifted object? "users_pkey on public.users" concerns constraint
// public.users.users_pkey; "public.users" concerns its columns too.
bool audit_concerns(std::string_view drift_name, std::string_view audit_identity);

// Does a GRANT or REVOKE on `audit_identity` (a schema when `on_schema`) explain a
// drift row of `kind` and `drift_name`? Only the object it names, and a table's
// columns: not the tables of a granted schema, nor a table's constraints, triggers,
// policies or indexes, whose names share the table's as a prefix.
bool grant_concerns(std::string_view kind, std::string_view drift_name, std::string_view audit_identity, bool on_schema);

}  // namespace dbkit::core
