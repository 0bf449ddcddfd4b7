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
	// CREATE SCHEMA IF NOT EXISTS x, and never without IF NOT EXISTS: a guard a folder may put
	// before using a platform's schema (a no-op where it exists), or its own schema
	std::set<std::string> created_if_absent;
	std::map<std::string, std::set<std::string>> objects;     // CREATE TABLE/VIEW/FUNCTION/TYPE/... x.y: x -> {y}
	std::map<std::string, std::set<std::string>> referenced;  // every x.y named: x -> {y}
};

// The objects of schema `x` the sources name but never create (auth.users behind a
// foreign key, auth.uid() in a policy): what a stand-in for x must hold.
std::set<std::string> used_not_made(const SchemaMentions &m, const std::string &x);

// Adds what `sql` names and creates to `into`.
void add_schema_mentions(std::string_view sql, SchemaMentions &into);

}  // namespace dbkit::core
