#pragma once
// The folder argument, loaded and checked, with every file hashed.
#include <string>
#include <vector>

#include "core/folder.hpp"
#include "core/plan.hpp"
#include "history.hpp"
#include "payload.hpp"

namespace dbkit {

struct LoadedFolder {
	core::FolderInput input;
	core::Folder folder;
	std::vector<std::string> hashes;  // sha256 hex per folder.migrations[i]
};

// Raises DK001 naming every error-severity finding (nothing is applied);
// emits the warnings as WARNING messages.
LoadedFolder load_folder_arg(Jsonb *folder);

// Reads history and drizzle's table and classifies every migration. For callers
// that write: refuses (DK017) when drizzle's table is absent but another table
// records the folder's migrations.
core::Plan plan_against_database(const LoadedFolder &lf, const Options &o, DrizzleTable *dz,
                                 std::vector<core::DrizzleRow> *drizzle_rows = nullptr);
// The same for callers that only read: drizzle's table is consulted when
// o.drizzle_sync says so, and not kept.
core::Plan plan_against_database(const LoadedFolder &lf, const Options &o);

// Raises the plan's first refusal with its own SQLSTATE (DK002 modified, DK003
// missing, DK004 out of order), every refusal in DETAIL, "Nothing was applied."
// in the hint. dbkit_apply and dbkit_dry_run refuse alike.
[[noreturn]] void refuse_plan(const std::vector<core::Finding> &refusals);

// Sends a finding to the client as a WARNING.
void warn(const core::Finding &f);

// DETAIL for an error that stands for several findings: "N problems:" and the
// first 20, then where to see the rest. Empty for a single finding.
std::string problems_detail(const std::vector<const core::Finding *> &findings, const char *see_all);

}  // namespace dbkit
