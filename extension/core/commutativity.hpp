// Two branches generated from one parent snapshot (two developers ran drizzle-kit
// generate on the same base) are harmless when they touch different objects: applied
// in either order they build the same schema. drizzle-kit 1.0's `check` judges branches
// this way (statement footprints per object); dbkit judges the same thing from the
// objects each branch's snapshots declare.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "code_drift.hpp"

namespace dbkit::core {

// Keys of the objects that differ between two snapshots' objects (added, removed or changed).
std::set<std::string> changed_objects(const ObjectMap &before, const ObjectMap &after);

// The objects both branches touch, readable ("table public.users", "column public.users.email").
// A table one branch creates, drops or renames clashes with anything the other does to it.
// Empty: the branches commute.
std::vector<std::string> branch_conflicts(const std::set<std::string> &a, const std::set<std::string> &b);

}  // namespace dbkit::core
