// Drift against the code: the schema drizzle-kit's newest snapshot declares
// (what the application's schema.ts says) against the live schema, for the
// objects drizzle models: tables, columns, indexes, primary/unique/foreign
// keys and enums. Both sides are normalised to one vocabulary first (types,
// defaults, constraint text), so only real differences are reported.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "drift_describe.hpp"
#include "json.hpp"

namespace dbkit::core {

using Attrs = std::map<std::string, std::string>;
using ObjectMap = std::map<std::string, Attrs>;  // "<kind>:<qualified name>" -> attributes

// The objects a drizzle snapshot (format 5-7 of drizzle-kit 0.x, or 8 of 1.0) declares.
// Returns false with `error` when the snapshot is not one dbkit understands.
bool code_objects(const JsonValue &snapshot, ObjectMap &out, std::string &error);

// The same kinds of objects from dbkit.snapshot()'s flat object.
ObjectMap live_objects(const JsonValue &live);

// expected = code, actual = database; change is missing | extra | different.
std::vector<DriftItem> compare_objects(const ObjectMap &code, const ObjectMap &live);

// Building blocks, exposed for tests.
std::string normalize_type(const std::string &drizzle_type, const std::string &type_schema);
std::string normalize_default(const std::string &expr);
// An identifier as the catalog description spells it (quoted only where PostgreSQL's
// quote_ident would), so keys built from a drizzle snapshot match the live ones.
std::string catalog_ident(const std::string &ident);
// "a.\"b.c\".d" -> a, "b.c", d (dots inside quotes do not split)
std::vector<std::string> split_qualified(const std::string &name);

}  // namespace dbkit::core
