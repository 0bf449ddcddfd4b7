#pragma once
// PostgreSQL's parse tree -> core::LintStatement: the glue between the parser
// and the server-free lint rules.
#include <string>
#include <vector>

#include "core/folder.hpp"
#include "core/lint_rules.hpp"

namespace dbkit {

struct LintInput {
	std::vector<core::LintStatement> statements;
	std::vector<core::LintFinding> parse_errors;  // syntax errors, as findings
};

// Splits on the breakpoint marker and parses each chunk (in a subtransaction).
LintInput lint_input(const core::Migration &m);

// Table facts from the catalogs, for severities that follow the table's size.
core::TableLookup catalog_lookup();

}  // namespace dbkit
