// Transaction control a migration's author wrote (BEGIN, COMMIT, ...), and how
// dbkit honours it. drizzle's migrator runs such files, so real projects have them:
//  - a file wholly wrapped in one BEGIN ... COMMIT: the wrapper is redundant, since
//    dbkit runs every migration in a transaction; the file runs as one (Wrapped);
//  - COMMIT inside the file (the usual fix for "unsafe use of new enum value":
//    ALTER TYPE ... ADD VALUE; COMMIT; INSERT ... the value), or several blocks: the
//    file runs statement by statement outside a transaction, each BEGIN ... COMMIT
//    block as one transaction, progress recorded as each commits (Blocks);
//  - what cannot be honoured is refused before anything runs: ROLLBACK (the author's
//    own undo would undo dbkit's record too), SAVEPOINT / RELEASE / ROLLBACK TO,
//    two-phase commit, COMMIT AND CHAIN, a BEGIN never committed, a BEGIN inside an
//    open block, and a statement that cannot run in a transaction inside a block.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace dbkit::core {

enum class TxKind { None, Begin, Commit, Rollback, Savepoint, Release, RollbackTo, TwoPhase, Chain };

struct TxStatement {
	TxKind kind = TxKind::None;
	bool begin_options = false;  // BEGIN ISOLATION LEVEL ... / READ ONLY / DEFERRABLE
	bool needs_top_level = false;  // cannot run inside a transaction block (CREATE INDEX CONCURRENTLY, ...)
};

// A statement's part in a Blocks run.
enum class TxRole {
	Alone,       // runs and commits on its own
	Begin,       // opens an author's block: run as written, the transaction stays open
	InBlock,     // inside the block
	Commit,      // closes it: the progress row is written, then the COMMIT runs
	StrayCommit  // COMMIT with no block open: at top level every statement has already committed; not run
};

struct TxShape {
	enum class Mode { Plain, Wrapped, Blocks, Refused } mode = Mode::Plain;
	std::vector<TxRole> roles;  // Blocks: one per statement
	size_t at = 0;              // Refused: the statement (0-based) refused; Wrapped: unused
	std::string why;            // Refused: why, for people
	std::string summary;        // Wrapped / Blocks: what dbkit does, for people (lint, status, check)
};

TxShape transaction_shape(const std::vector<TxStatement> &stmts);

// The statement kind as people write it, for messages.
std::string tx_kind_name(TxKind k);

}  // namespace dbkit::core
