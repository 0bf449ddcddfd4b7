#pragma once
// The code's side of a comparison, built in the shadow once per content hash
// and kept in dbkit.code_schemas (drift_code.cpp).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "schema_engine.hpp"

namespace dbkit {

// dbkit.snapshot() of what `sources` build, from the cache or the shadow. SPI connected.
std::string code_side(const std::vector<const core::Migration *> &sources, const std::string &label,
                      const ShadowOptions &opts);
// A snapshot as "<key>" -> value text without owner and privileges, for comparing.
// With `comments_from`, each entry's comment is the one that snapshot gives it
// (for a side that cannot declare comments: a drizzle snapshot's).
std::map<std::string, std::string> comparable(const std::string &snapshot, const std::string *comments_from = nullptr);
std::string live_snapshot();
// `live` without the objects in the environment's schemas `code` stood in for
// (core/environment.hpp) that `code` does not have: the platform's, not drift.
void leave_out_environment(std::map<std::string, std::string> &live, const std::string &code_text,
                           const std::map<std::string, std::string> &code);

// What the folder's newest drizzle snapshot declares, built by PostgreSQL.
struct CodeSnapshot {
	std::string file;                          // meta/0005_snapshot.json, <folder>/snapshot.json
	std::string after;                         // the migrations after it, "0006_x, 0007_y" (empty: none)
	std::map<std::string, std::string> schema;  // comparable()
};
// Comments, which drizzle snapshots cannot declare, are taken from `comments_from`.
// A snapshot that cannot be built gives nullopt, a WARNING, and `*warned` set.
std::optional<CodeSnapshot> snapshot_side(const LoadedFolder &lf, const ShadowOptions &opts,
                                          const std::string &comments_from, bool *warned = nullptr);

}  // namespace dbkit
