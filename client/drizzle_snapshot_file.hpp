#pragma once
// The drizzle-kit snapshot dbkit generate writes beside a journal-layout migration
// (meta/NNNN_snapshot.json): its file name, its id (uuid v4), its prevId chained to
// the snapshot drizzle-kit itself would take as the previous one, and its text as
// drizzle-kit writes it (JSON.stringify(snapshot, null, 2): 2-space indent, no
// final newline, id and prevId first). Server-free: unit-tested.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dbkit::client {

// prevId of the first snapshot of a chain.
inline constexpr const char *kNoPrevSnapshotId = "00000000-0000-0000-0000-000000000000";

// A random (version 4, RFC 4122 variant) uuid in lower-case hex, as crypto.randomUUID().
std::string uuid_v4();
bool is_uuid(const std::string &s);

// "0003_snapshot.json" for the migration whose tag starts "0003_".
std::string snapshot_file_name(size_t idx);

// drizzle-kit's previous snapshot: of meta/'s entries not starting with "_", the
// last by name (byte order). nullopt when there is none.
std::optional<std::string> newest_snapshot_name(std::vector<std::string> meta_entries);

struct SnapshotError : std::runtime_error {
	using std::runtime_error::runtime_error;
};
// The id of a snapshot file's text; SnapshotError naming `file` when the text is
// not JSON or has no uuid "id".
std::string snapshot_id(const std::string &text, const std::string &file);

// The snapshot file's text: id, prevId, then `body`'s members (version, dialect,
// tables, ...) in drizzle-kit's order; body's own id/prevId are dropped.
std::string snapshot_text(const nlohmann::ordered_json &body, const std::string &id, const std::string &prev_id);

// Snapshots for `count` migrations written in a row after the snapshot `prev_id`
// (kNoPrevSnapshotId when none): each a fresh id, each prevId the one before.
// Returns (id, prevId) pairs.
std::vector<std::pair<std::string, std::string>> snapshot_chain(size_t count, const std::string &prev_id);

}  // namespace dbkit::client
