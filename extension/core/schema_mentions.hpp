#pragma once
// Which schemas SQL text names, and what it creates in them, read from its tokens
// (comments and string literals skipped; dollar-quoted bodies read, as DO blocks and
// functions name tables there too). The shadow stands in for a live schema the
// sources name but never create (Supabase's auth): with a copy of it, less what the
// sources create there themselves.
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace dbkit::core {

struct SchemaMentions {
	std::set<std::string> named;    // "x" of every x.y (unquoted names folded to lower case)
	std::set<std::string> created;  // CREATE SCHEMA x
	std::map<std::string, std::set<std::string>> objects;  // CREATE TABLE/VIEW/FUNCTION/TYPE/... x.y: x -> {y}
};

// Adds what `sql` names and creates to `into`.
void add_schema_mentions(std::string_view sql, SchemaMentions &into);

}  // namespace dbkit::core
