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
};

// A migration that must run statement by statement outside a transaction: a
// statement needs it, or the file carries a no-transaction marker.
bool is_non_transactional(const core::Migration &m, const std::vector<PlannedStatement> &stmts);

// Splits on the breakpoint marker and parses each chunk with PostgreSQL's
// parser. Refuses (DK005) statements no migration may hold (BEGIN/COMMIT, COPY
// from the client); a syntax error is reported against the file and line.
std::vector<PlannedStatement> plan_statements(const core::Migration &m);

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
