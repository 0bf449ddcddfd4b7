#pragma once
// The folder planned against the database: dbkit's history and drizzle's table
// read, every migration classified (core/plan), and the plan's refusals raised.
#include <vector>

#include "core/plan.hpp"
#include "folder_arg.hpp"
#include "history.hpp"

namespace dbkit {

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

}  // namespace dbkit
