// Deciding what to do: match the folder against the history by identity (tag
// and hash, never by timestamp) and classify every migration.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "finding.hpp"
#include "folder.hpp"

namespace dbkit::core {

// A row of dbkit.migrations.
struct HistoryRow {
	std::string tag;
	std::string hash;
	int64_t idx = 0;
	int64_t when = 0;
};

// A row of drizzle's own table (__drizzle_migrations), used to adopt what
// drizzle's migrator applied. `name` exists in drizzle 1.0's shape only.
struct DrizzleRow {
	int64_t id = 0;
	std::string hash;
	std::optional<int64_t> created_at;
	std::optional<std::string> name;
};

enum class State {
	Applied,     // in dbkit's history with the same hash
	Adopt,       // applied by drizzle's migrator: record it without running it
	Pending,     // not applied yet
	OutOfOrder,  // pending, but sorts before a migration already applied
	Modified,    // applied, but the file's hash changed since
	Missing,     // applied, but no longer in the folder
	Renamed,     // applied under another tag, same content: the history follows the new name
};
const char *state_name(State s);

struct PlanOptions {
	bool out_of_order = false;  // apply OutOfOrder migrations instead of refusing
	// sha256 hex of migration `pos`'s text with its line endings flipped
	// (flip_line_endings), asked only for a modified one: one whose line endings alone
	// changed (a checkout with git's autocrlf) is said to be so. Empty: not asked.
	std::function<std::string(size_t pos)> flipped_hash;
};

struct PlanItem {
	State state = State::Pending;
	std::string tag;
	int64_t idx = 0;
	int64_t when = 0;
	std::optional<size_t> pos;  // index into the folder's migrations; empty when Missing
	std::string file_hash;      // empty when Missing
	std::string applied_hash;   // the hash in the history (or drizzle's), empty when never applied
	std::string note;           // why, in words
	std::string renamed_from;   // Renamed: the tag in the history
	bool line_endings_only = false;  // Modified: only CRLF <-> LF differs from what was applied
};

struct Plan {
	std::vector<PlanItem> items;      // folder order, then Missing ones
	std::vector<Finding> refusals;    // non-empty: apply must not run anything
	std::vector<Finding> notices;     // warnings that do not block (unmatched drizzle rows)
	bool runs(const PlanItem &it) const;  // will apply execute this item?
};

// `hashes[i]` is the sha256 hex of folder.migrations[i].sql.
Plan make_plan(const std::vector<Migration> &migrations, const std::vector<std::string> &hashes,
               const std::vector<HistoryRow> &history, const std::vector<DrizzleRow> &drizzle,
               const PlanOptions &opts);

}  // namespace dbkit::core
