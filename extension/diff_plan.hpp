#pragma once
// What push, generate's dbkit_diff and dbkit_reverse share around the schema
// diff (core/schema_diff.hpp): its options from the engine's, and the refusal
// when the diff leaves a decision to a human (a rename, a kind it cannot alter).
#include <string>

#include "core/schema_diff.hpp"
#include "schema_engine.hpp"

namespace dbkit {

// The diff's options: renames parsed (DK006 naming a malformed one), drop_and_add.
core::DiffOptions diff_options(const EngineOptions &o, bool concurrent_indexes);

// Raises DK005 when `r` has refusals: "<what>: N decisions needed", each in
// DETAIL, their flags in the hint after `hint_lead`; when none has an option to
// give, "N changes to write by hand" with the hint `by_hand`. Returns otherwise.
void refuse_undecided(const core::DiffResult &r, const std::string &what, const std::string &hint_lead,
                      const std::string &by_hand);

}  // namespace dbkit
