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

}  // namespace dbkit::core
