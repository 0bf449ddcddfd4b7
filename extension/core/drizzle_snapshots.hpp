// drizzle-kit's snapshot chain (meta/NNNN_snapshot.json or <dir>/snapshot.json):
// each snapshot's prevId names its parent; two children of one parent are two
// branches generated from the same schema (a collision drizzle-kit misreports).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "finding.hpp"
#include "folder.hpp"

namespace dbkit::core {

inline constexpr const char *kZeroSnapshotId = "00000000-0000-0000-0000-000000000000";

// Findings about the snapshots the folder input carries. No snapshot files at
// all means the caller did not ship them: nothing is reported.
std::vector<Finding> check_drizzle_snapshots(const FolderInput &in, const Folder &folder);

// The snapshot file drizzle-kit writes for a migration.
std::string snapshot_path(const Folder &f, const Migration &m);

// The snapshot of the newest migration that has one: what the code declares.
std::optional<std::pair<std::string, std::string_view>> newest_snapshot(const FolderInput &in, const Folder &f);

// Per-file checks that need no parser: an empty migration.
std::vector<Finding> check_files(const Folder &folder);

}  // namespace dbkit::core
