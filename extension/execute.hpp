#pragma once
// Running one migration's statements through SPI, with errors that name the
// file, the statement's number and its line.
#include <string>
#include <string_view>
#include <vector>

#include "core/folder.hpp"

namespace dbkit {

struct PlannedStatement {
	int number;          // 1-based within the file
	size_t file_offset;  // byte offset of the statement text in the file
	std::string_view text;
	std::string command;
};

// Splits on the breakpoint marker and parses each chunk with PostgreSQL's
// parser. Refuses (DK005) statements that cannot run in a transactional
// migration; a syntax error is reported against the file and line.
std::vector<PlannedStatement> plan_statements(const core::Migration &m);

// Executes the statements in the current transaction.
void run_statements(const core::Migration &m, const std::vector<PlannedStatement> &stmts);

}  // namespace dbkit
