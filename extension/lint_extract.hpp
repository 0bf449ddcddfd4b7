#pragma once
// PostgreSQL's parse tree -> core::LintStatement: the glue between the parser
// and the server-free lint rules.
#include <string>
#include <vector>

#include "core/folder.hpp"
#include "core/lint_rules.hpp"
#include "core/plan.hpp"

namespace dbkit {

struct LintInput {
	std::vector<core::LintStatement> statements;
	std::vector<core::LintFinding> parse_errors;  // syntax errors, as findings
	bool non_transactional = false;  // runs statement by statement, as apply decides (is_non_transactional)
};

// Splits on the breakpoint marker and parses each chunk (in a subtransaction).
LintInput lint_input(const core::Migration &m);

// The pending migrations of `plan`, in the order a deploy applies them, each with its
// lint findings, sized against this database: its own (parse errors too when asked;
// check reports those itself) and the run's across migrations (core::lint_run).
struct PendingLint {
	const core::Migration *migration;
	std::vector<core::LintFinding> findings;
};
std::vector<PendingLint> lint_pending(const core::Plan &plan, const core::Folder &folder, bool with_parse_errors);

// Table facts from the catalogs, for severities that follow the table's size.
core::TableLookup catalog_lookup();

}  // namespace dbkit
