#pragma once
// SPI from C++: every call that can raise goes through PgCall, so a failing
// query becomes a PgError and C++ destructors run. Values travel as parameters;
// SQL text here is always a constant or built with quote_identifier.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "guard.hpp"

namespace dbkit::spi {

struct Arg {
	Oid type;
	Datum value;
	bool null;
};
Arg text(std::string_view s);
Arg text_or_null(const std::optional<std::string> &s);
Arg int8(int64_t v);
Arg int4(int32_t v);
Arg float8(double v);
Arg jsonb_text(std::string_view json);  // parsed by jsonb_in

void connect();
void finish();

// Runs `sql` with parameters; returns the SPI result code (>= 0) or throws.
int execute(const char *sql, const std::vector<Arg> &args = {}, bool read_only = false);
// SQL the user wrote, or dbkit planned from it (push): under the caller's search_path, as
// a migration's statements run (a function body's unqualified names resolve as in psql).
int execute_as_user(const char *sql);

// execute() for dbkit's own fixed queries that a session runs again and again (a
// non-transactional run's checks around each statement, the trust checks of
// every call): prepared once per backend and kept (SPI_keepplan), so PostgreSQL's
// plan cache plans it once (and again only after DDL on what it reads) instead
// of parsing and planning it on every call. One generic plan: only for lookups
// whose best plan does not depend on the values. Keyed by the text and the
// argument types; never for text that varies with user input (the cache holds
// at most a few hundred plans, then runs the rest uncached).
int execute_cached(const char *sql, const std::vector<Arg> &args = {}, bool read_only = false);

// Prepared statement kept for the rest of the call.
// cursor_options: SPI_prepare_cursor's (CURSOR_OPT_GENERIC_PLAN, ...); 0 as SPI_prepare.
SPIPlanPtr prepare(const char *sql, const std::vector<Oid> &types, int cursor_options = 0);
int execute_plan(SPIPlanPtr plan, const std::vector<Arg> &args, bool read_only = false);

// Reading the last result.
uint64_t rows();
std::optional<std::string> get_text(uint64_t row, int col);  // col is 1-based
std::optional<int64_t> get_int64(uint64_t row, int col);

// An identifier ready to paste into SQL text run in the server: PostgreSQL's own
// quote_identifier (quotes only when needed). Not core::catalog_ident (no server
// there) nor the client's always_quoted_ident.
std::string sql_ident(std::string_view ident);

}  // namespace dbkit::spi
