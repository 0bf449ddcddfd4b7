// Lint rules for migrations. The extension turns PostgreSQL's parse tree into
// the small statement model below (extension/lint_extract.cpp); the rules, the
// severities and the messages live here, server-free and unit-tested.
#pragma once
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dbkit::core {

struct AlterCmd {
	enum class Type { AddColumn, DropColumn, AlterType, SetNotNull, AddForeignKey, AddCheck, AddPrimaryKey, AddUnique,
	                  AddExclude, RenameColumn, Other };
	Type type = Type::Other;
	std::string column;                    // AddColumn, DropColumn, AlterType, SetNotNull, RenameColumn
	std::string new_type;                  // AlterType, AddColumn
	bool volatile_default = false;         // AddColumn with a default that is re-evaluated per row
	bool not_null = false;                 // AddColumn ... NOT NULL
	bool not_valid = false;                // AddForeignKey / AddCheck with NOT VALID
	bool has_default = false;              // AddColumn ... DEFAULT
	bool identity = false;                 // AddColumn ... GENERATED ... AS IDENTITY
	bool generated_stored = false;         // AddColumn ... GENERATED ALWAYS AS (...) STORED
	bool serial = false;                   // AddColumn of type serial / bigserial / smallserial
	bool inline_unique = false;            // AddColumn ... UNIQUE
	bool inline_primary_key = false;       // AddColumn ... PRIMARY KEY
	bool using_index = false;              // AddPrimaryKey / AddUnique ... USING INDEX (no index build)
	std::vector<std::string> columns;      // AddForeignKey / AddPrimaryKey / AddUnique columns
};

struct LintStatement {
	enum class Kind { Other, CreateTable, AlterTable, DropTable, DropColumnLike, DropSchema, DropType, DropOther,
	                  Truncate, DeleteAll, UpdateAll, CreateIndex, AddEnumValue, CreateEnum, NoTransaction, Commit };
	Kind kind = Kind::Other;
	int number = 0;                        // 1-based in the file
	int line = 0;                          // of the statement's first token
	std::string command;                   // "ALTER TABLE", ...
	std::string text;                      // the statement
	std::vector<std::string> tables;       // targets, as written ("users", "public.users")
	bool concurrently = false;             // CreateIndex
	bool has_primary_key = false;          // CreateTable
	bool is_partition = false;             // CreateTable ... PARTITION OF
	std::vector<std::vector<std::string>> foreign_keys;  // CreateTable: FK column lists
	std::vector<std::vector<std::string>> unique_keys;   // CreateTable: PK/UNIQUE column lists
	std::vector<std::string> index_columns;               // CreateIndex (plain columns, in order)
	std::vector<AlterCmd> cmds;                           // AlterTable
	std::string enum_value;                               // AddEnumValue
};

// What the database knows about a table (when connected).
struct TableInfo {
	double rows = 0;       // pg_class.reltuples (estimate; -1 never analyzed), or counted (up to 100,000) when
	                       // the table was never analyzed or looks empty but has pages
	int64_t bytes = 0;     // pg_relation_size
	std::vector<std::pair<std::string, std::string>> columns;  // name, type (format_type)
	std::vector<std::vector<std::string>> indexes;             // column lists of its indexes
	bool counted = false;                                      // rows were counted (capped at 100,000), not read from reltuples
};
using TableLookup = std::function<std::optional<TableInfo>(const std::string &table)>;

struct LintFinding {
	std::string severity;  // error | warning | info
	std::string rule;      // stable id, e.g. "lock.create-index"
	int statement = 0, line = 0;
	std::string message, hint;
};

// Lints one migration. `lookup` is empty offline. Rules waived in the file with
// `-- dbkit:allow <rule> [<rule> ...]` are dropped.
std::vector<LintFinding> lint_migration(const std::vector<LintStatement> &stmts, const std::string &file_text,
                                        const TableLookup &lookup);

// One pending migration of a run, in the order a deploy applies them.
struct RunMigration {
	std::string file;
	const std::vector<LintStatement> *statements = nullptr;
	std::string_view file_text;      // for its waivers
	bool non_transactional = false;  // runs statement by statement (a marker, CONCURRENTLY, its own COMMIT)
};
struct RunFinding {
	size_t migration;  // index into the run
	LintFinding finding;
};
// Rules across the run's migrations. tx.enum-value-used: a value one migration adds
// used by a later one that a default deploy (--transaction all) runs in the same
// transaction; PostgreSQL refuses the use (55P04), so the run stops and nothing is
// applied. A non-transactional migration ends that transaction (and commits its own
// values as it goes).
std::vector<RunFinding> lint_run(const std::vector<RunMigration> &run);

std::set<std::string> waived_rules(const std::string &file_text);
bool is_volatile_function(const std::string &name);
// The same list, null-terminated, for code that must not build C++ strings
// (the parse-tree walker runs inside PgCall).
const char *const *volatile_function_names();
// Would changing a column from `from` to `to` lose data? (both format_type-style)
bool narrowing(const std::string &from, const std::string &to);
bool widening_without_rewrite(const std::string &from, const std::string &to);

}  // namespace dbkit::core
