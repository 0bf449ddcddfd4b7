// drizzle-kit's snapshot chain (meta/NNNN_snapshot.json or <dir>/snapshot.json):
// each snapshot's prevId names its parent; two children of one parent are two
// branches generated from the same schema (a collision drizzle-kit misreports).
#pragma once
#include <vector>

#include "finding.hpp"
#include "folder.hpp"

namespace dbkit::core {

inline constexpr const char *kZeroSnapshotId = "00000000-0000-0000-0000-000000000000";

// Findings about the snapshots the folder input carries. No snapshot files at
// all means the caller did not ship them: nothing is reported.
std::vector<Finding> check_snapshots(const FolderInput &in, const Folder &folder);

// Per-file checks that need no parser: an empty migration.
std::vector<Finding> check_files(const Folder &folder);

}  // namespace dbkit::core
