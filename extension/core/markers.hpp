// Per-migration settings written as comments in the file:
//   -- dbkit:no-transaction           run statement by statement, outside a transaction
//   -- dbkit:lock_timeout=30s         override the run's lock_timeout for this migration
//   -- dbkit:statement_timeout=10min  and its statement_timeout
//   -- dbkit:irreversible             (in a down file) a human must decide: rollback refuses it
// Other tools' no-transaction markers are accepted too, so migrations written
// for them keep working: atlas (txmode none), goose (NO TRANSACTION), dbmate
// (transaction:false).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace dbkit::core {

struct Markers {
	bool no_transaction = false;
	bool irreversible = false;
	std::optional<int64_t> lock_timeout_ms, statement_timeout_ms;
};

Markers read_markers(std::string_view sql);

// "30s" / "500ms" / "2min" / "1h" / "1500" (ms) -> milliseconds
std::optional<int64_t> parse_duration_ms(std::string_view text);

}  // namespace dbkit::core
