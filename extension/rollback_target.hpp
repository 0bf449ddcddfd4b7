#pragma once
// What dbkit_rollback and the non-transactional rollback (rollback_nontx.cpp)
// both check before a down file runs: the history newest first, and per
// migration the reasons it cannot be rolled back.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "execute.hpp"
#include "folder_arg.hpp"

namespace dbkit {

struct HistoryRow {  // a row of dbkit.migrations
	std::string tag, hash, how;
	std::optional<std::string> down_hash;
	std::optional<int64_t> when;
};

struct RollbackTarget {
	HistoryRow row;
	const core::Migration *m = nullptr;
	std::optional<std::string> down_hash;  // of the down file in the folder now
	core::Migration down;                  // the down file as a migration (file = the down file)
	std::vector<PlannedStatement> stmts;
	bool non_transactional = false;  // runs statement by statement at top level
};

// dbkit.migrations, newest first: the order the migrations were applied in, reversed.
std::vector<HistoryRow> history_newest_first();

// Fills `t` for `row` from the folder; returns why it cannot be rolled back
// (empty: it can). A syntax error in the down file raises, naming the file.
std::string prepare_rollback_target(RollbackTarget &t, const HistoryRow &row, const LoadedFolder &lf);

}  // namespace dbkit
