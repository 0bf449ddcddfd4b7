#pragma once
// The renames a migration makes itself (RENAME COLUMN, RENAME TO of a table or
// sequence, SET SCHEMA of a table, ALTER TYPE ... RENAME VALUE), read from its parse
// trees: its down file renames them back instead of asking "a rename, or a drop and
// an add?", which the migration's own text already answers.
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/schema_diff.hpp"

namespace dbkit {

namespace core {
struct Migration;
}

struct OwnRenames {
	std::vector<core::Rename> forward;  // in the terms of the schema before the migration
	std::vector<core::Rename> back;     // in the terms of the schema after it (what a down file does)
};

// `before`, `after`: the snapshots before and after the migration (schemas of unqualified
// names: the one schema that has such a table, public otherwise). A rename is kept only
// when the two show it: the old name before and not after, the new one after and not
// before (a column added and renamed within the migration renames nothing that was
// there). Statements that do not parse are skipped (the migration has run: they parse).
OwnRenames own_renames(const core::Migration &m, const core::JsonValue &before, const core::JsonValue &after);

// The extensions the migration's CREATE EXTENSION statements name. A shadow keeps an
// extension the database already has (it cannot be created twice in a database), so
// the schema before a migration that created it has it too, wherever it is computed
// where the migration ran: its down file would never drop it.
struct CreatedExtension {
	std::string name;
	bool if_not_exists = false;  // it may have been there before the migration ran
};
std::vector<CreatedExtension> created_extensions(const core::Migration &m);

}  // namespace dbkit
