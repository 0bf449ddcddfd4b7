#pragma once
// On a terminal, the renames the schema engine refused to guess are asked
// (issue 10: "On a terminal the user may be asked"). Anywhere else (a script,
// CI, --json) the refusal stands, with the flags that resolve it.
#include <string>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "schema_plan.hpp"

namespace dbkit::client {

// The "--rename FROM=TO" candidates in a refusal's hint (SQLSTATE DK005), in order.
std::vector<std::pair<std::string, std::string>> rename_candidates(const ServerError &err);

// Asks about each candidate on stderr, reading answers from stdin, when both are
// terminals: yes adds the rename to `o`, no sets drop_and_add. Returns true when
// the user answered (run the plan again), false when nothing was asked or the
// user quit.
bool ask_renames(const ServerError &err, SchemaOptions &o);

}  // namespace dbkit::client
