#pragma once
// PostgreSQL's own parser over migration text: statement boundaries and the
// statements that cannot run inside a transaction block.
#include <string>
#include <string_view>
#include <vector>

#include "core/transaction_shape.hpp"
#include "guard.hpp"

namespace dbkit {

struct Statement {
	size_t offset = 0;  // byte offset in the parsed text (leading comments included)
	size_t length = 0;
	std::string command;  // CreateCommandName: "CREATE TABLE", ...
	core::TxKind tx = core::TxKind::None;  // BEGIN, COMMIT, SAVEPOINT, ... (core/transaction_shape.hpp)
	bool begin_options = false;            // BEGIN ISOLATION LEVEL ... and the like
	bool needs_no_transaction = false;  // CREATE INDEX CONCURRENTLY, VACUUM, ...
	bool copy_stdio = false;            // COPY FROM STDIN / TO STDOUT
	std::vector<std::string> relations;  // tables it locks, quoted and qualified as written
	// CREATE INDEX with a name: the index and its table (quoted, qualified as written)
	std::string index_name, index_table;
	bool if_not_exists = false;
	// what it would do to dbkit's own objects (DROP EXTENSION dbkit, DROP SCHEMA dbkit,
	// ALTER/DROP/TRUNCATE/DML on dbkit.*): empty when nothing
	std::string touches_dbkit;
};

// Parses `sql` (one breakpoint chunk). A syntax error throws PgError with the
// parser's cursor position relative to `sql`. With `in_subxact`, the parse runs
// in an internal subtransaction so that the caller may go on after an error.
std::vector<Statement> parse_statements(std::string_view sql, bool in_subxact = false);

// The raw parse trees of `sql` (NUL-terminated), never raising: on a syntax
// error returns NIL and sets *err. With `in_subxact` the transaction survives it.
// NOTICEs and WARNINGs the parser raises never reach the client from here (the
// statement raises them again when it runs); a ParserNotices in scope collects them.
List *raw_parse_noexcept(const char *sql, bool in_subxact, ErrorData **err) noexcept;

// Collects the parser's NOTICEs and WARNINGs (an identifier over 63 bytes truncated,
// a nonstandard backslash in a string, ...) while in scope, so that `check` reports
// each as a finding with its file and line instead of a stray server message.
struct ParserNotice {
	int sqlerrcode = 0;
	std::string message;
};
void collect_parser_notice(ErrorData *edata) noexcept;
class ParserNotices {
public:
	ParserNotices();
	~ParserNotices();
	ParserNotices(const ParserNotices &) = delete;
	ParserNotices &operator=(const ParserNotices &) = delete;
	std::vector<ParserNotice> take();

private:
	ParserNotices *outer_;
	std::vector<ParserNotice> notices_;
	friend void collect_parser_notice(ErrorData *edata) noexcept;
};

}  // namespace dbkit
