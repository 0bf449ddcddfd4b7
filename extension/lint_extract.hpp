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
	bool non_transactional = false;  // runs statement by statement, as apply decides (is_non_transactional)
};

// Splits on the breakpoint marker and parses each chunk (in a subtransaction).
LintInput lint_input(const core::Migration &m);

// The pending migrations, in the order a deploy applies them, for core::lint_run.
std::vector<core::RunMigration> run_of(const std::vector<const core::Migration *> &migrations,
                                       const std::vector<LintInput> &inputs);

// Table facts from the catalogs, for severities that follow the table's size.
core::TableLookup catalog_lookup();

}  // namespace dbkit
