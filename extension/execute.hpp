#pragma once
// Running one migration's statements through SPI, with errors that name the
// file, the statement's number and its line.
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/finding.hpp"
#include "core/folder.hpp"
#include "parse.hpp"

namespace dbkit {

struct PlannedStatement {
	int number;          // 1-based within the file
	size_t file_offset;  // byte offset of the statement text in the file
	std::string_view text;
	std::string command;
	bool no_transaction = false;         // cannot run inside a transaction block
	std::vector<std::string> relations;  // existing tables it may lock
	std::string index_name, index_table;  // CREATE INDEX with a name (see Statement)
	bool if_not_exists = false;
	core::TxKind tx = core::TxKind::None;     // the author's BEGIN, COMMIT (core/transaction_shape.hpp)
	bool begin_options = false;
	core::TxRole role = core::TxRole::Alone;  // in a file that controls its own transactions
};

// A migration that must run statement by statement outside a transaction: a
// statement needs it, the file commits inside (its own BEGIN/COMMIT blocks), or
// the file carries a no-transaction marker.
bool is_non_transactional(const core::Migration &m, const std::vector<PlannedStatement> &stmts);

// Splits on the breakpoint marker and parses each chunk with PostgreSQL's
// parser. Refuses (DK005) statements no migration may hold (COPY from the client,
// transaction control that cannot be honoured); a syntax error is reported
// against the file and line. A file wrapped in BEGIN ... COMMIT loses the wrapper;
// in a file with COMMIT inside each statement gets its role (TxRole).
// `shape`, when given, receives what the file's transaction control means.
std::vector<PlannedStatement> plan_statements(const core::Migration &m, core::TxShape *shape = nullptr);

// The file's transaction control, without raising (Plain when it does not parse),
// for status and the dry run's notes.
core::TxShape transaction_shape_of(const core::Migration &m);

// The same checks as findings, for dbkit_validate: parses in a subtransaction
// and goes on after a syntax error.
std::vector<core::Finding> statement_findings(const core::Migration &m);

// Why a statement cannot be part of a transactional migration, if it cannot.
struct Refusal {
	const char *code;
	std::string why;
	std::string hint;
	bool top_level() const { return strcmp(code, "migration.no_transaction") == 0; }  // runs outside a transaction
};
std::optional<Refusal> refusal_of(const Statement &st);

class SessionWatch;
// Executes the statements in the current transaction. Without `watch`, they are
// the whole migration: it is refused (DK005) if it leaves the session as another
// role or read-only (session_watch.hpp). With `watch`, the caller runs the
// migration in pieces and calls watch->check() at its end.
void run_statements(const core::Migration &m, const std::vector<PlannedStatement> &stmts,
                    SessionWatch *watch = nullptr);

}  // namespace dbkit
