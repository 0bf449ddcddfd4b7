#pragma once
// Schemas of the environment: a schema the sources use but never create, that
// exists live (Supabase's auth and storage, a schema made by hand). The shadow
// stands in for it with a copy of the live one; what the copy holds is the
// platform's, not the code's. A side built so says which schemas in its
// "dbkit:format" member "environment_schemas" (names spelled as keys spell
// them), and the other side's objects there that the code does not have are
// left out of every comparison and plan: no drift, and never a DROP.
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"

namespace dbkit::core {

// The environment's schemas a snapshot names (empty for a live one).
std::vector<std::string> environment_schemas(const JsonValue &snapshot);
// Whether `key` ("table:auth.users", "schema:auth", "default_privileges:r in auth
// on tables") names an object in one of `schemas`.
bool key_in_schemas(std::string_view key, const std::vector<std::string> &schemas);
// `from` without its objects in the schemas `to` stood in for that `to` does not have.
JsonValue without_environment(const JsonValue &from, const JsonValue &to);
// `to` without what `from`'s stand-ins copied ("environment_keys"): a schema file that
// declares the platform's schema itself (a pg_dump -s with auth) against a folder built
// with a stand-in for it asks for nothing there that the platform already has.
JsonValue without_copies(const JsonValue &to, const JsonValue &from);

}  // namespace dbkit::core
