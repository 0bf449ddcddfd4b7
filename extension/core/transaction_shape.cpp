#include "transaction_shape.hpp"

#include <fmt/format.h>

namespace dbkit::core {

std::string tx_kind_name(TxKind k) {
	switch (k) {
	case TxKind::Begin: return "BEGIN";
	case TxKind::Commit: return "COMMIT";
	case TxKind::Rollback: return "ROLLBACK";
	case TxKind::Savepoint: return "SAVEPOINT";
	case TxKind::Release: return "RELEASE SAVEPOINT";
	case TxKind::RollbackTo: return "ROLLBACK TO SAVEPOINT";
	case TxKind::TwoPhase: return "a two-phase commit statement";
	case TxKind::Chain: return "COMMIT AND CHAIN";
	case TxKind::None: break;
	}
	return "";
}

namespace {

TxShape refused(size_t at, std::string why) {
	TxShape s;
	s.mode = TxShape::Mode::Refused;
	s.at = at;
	s.why = std::move(why);
	return s;
}

}  // namespace

TxShape transaction_shape(const std::vector<TxStatement> &stmts) {
	TxShape shape;
	bool any = false;
	for (size_t i = 0; i < stmts.size(); ++i) {
		switch (stmts[i].kind) {
		case TxKind::None: continue;
		case TxKind::Begin:
		case TxKind::Commit: any = true; continue;
		case TxKind::Rollback:
			return refused(i, "would undo the migration while dbkit records it as applied: dbkit cannot honour it");
		case TxKind::Savepoint:
		case TxKind::Release:
		case TxKind::RollbackTo:
			return refused(i, "cannot be honoured: dbkit runs the migration in its own transaction and subtransaction, "
			                  "and the file's savepoints would interleave with them");
		case TxKind::TwoPhase:
			return refused(i, "(two-phase commit) has no place in a migration");
		case TxKind::Chain:
			return refused(i, "AND CHAIN cannot be honoured statement by statement");
		}
	}
	if (!any)
		return shape;

	// The roles, and what cannot be honoured.
	std::vector<TxRole> roles(stmts.size(), TxRole::Alone);
	bool open = false;
	size_t opened_at = 0, blocks = 0, stray = 0;
	for (size_t i = 0; i < stmts.size(); ++i) {
		const TxStatement &s = stmts[i];
		if (s.kind == TxKind::Begin) {
			if (open)
				return refused(i, fmt::format("stands inside the block that statement {} opened: PostgreSQL would "
				                              "ignore it, and the first COMMIT would end both",
				                              opened_at + 1));
			open = true;
			opened_at = i;
			roles[i] = TxRole::Begin;
		} else if (s.kind == TxKind::Commit) {
			if (open) {
				roles[i] = TxRole::Commit;
				++blocks;
			} else {
				roles[i] = TxRole::StrayCommit;
				++stray;
			}
			open = false;
		} else if (open) {
			if (s.needs_top_level)
				return refused(i, fmt::format("cannot run inside a transaction block, and it stands inside the "
				                              "BEGIN ... COMMIT block that statement {} opens",
				                              opened_at + 1));
			roles[i] = TxRole::InBlock;
		}
	}
	if (open)
		return refused(opened_at, "is never committed: the file ends inside its block");

	// One block from the first statement to the last, nothing else: the wrapper is
	// redundant. A BEGIN with options (isolation level, read only) is honoured as written.
	bool first_begins = stmts.front().kind == TxKind::Begin && !stmts.front().begin_options;
	bool last_commits = roles.back() == TxRole::Commit;
	if (first_begins && last_commits && blocks == 1 && stray == 0) {
		shape.mode = TxShape::Mode::Wrapped;
		shape.summary = "wrapped in BEGIN ... COMMIT: dbkit runs it as one transaction, as it runs every migration "
		                "(the wrapper statements are not sent)";
		return shape;
	}
	shape.mode = TxShape::Mode::Blocks;
	shape.roles = std::move(roles);
	std::string parts;
	if (blocks)
		parts = fmt::format("{} BEGIN ... COMMIT block{}", blocks, blocks == 1 ? "" : "s");
	if (stray)
		parts += fmt::format("{}{} COMMIT{} outside a block", parts.empty() ? "" : " and ", stray, stray == 1 ? "" : "s");
	shape.summary = fmt::format(
	    "controls its own transactions ({}): dbkit runs it statement by statement outside a transaction, each block "
	    "as one transaction and every other statement on its own, and records progress as each commits; if it stops "
	    "half-way, dbkit migrate --resume continues from the statement or block that failed",
	    parts);
	return shape;
}

}  // namespace dbkit::core
