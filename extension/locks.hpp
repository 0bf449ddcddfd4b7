#pragma once
// Lock safety for apply: per-statement timeouts, the sessions that hold locks
// a migration needs, and the wait between retries.
#include <cstdint>
#include <string>
#include <vector>

#include "guard.hpp"

namespace dbkit {

// The table a quoted, maybe qualified name denotes under the caller's search_path
// (InvalidOid if none). dbkit's own queries run with a fixed search_path, so
// names from migrations are resolved here, before them.
Oid resolve_relation(const std::string &quoted_name);

// SET LOCAL lock_timeout / statement_timeout for the rest of the transaction.
void set_local_timeouts(int64_t lock_timeout_ms, int64_t statement_timeout_ms);

// Sessions holding locks on any of `tables` (quoted names as written), one line
// each: pid, application, state, for how long, what they run. Empty: none.
std::string lock_holders(const std::vector<std::string> &tables);

// Sleeps `ms` milliseconds, answering query cancellation meanwhile.
void interruptible_sleep(int64_t ms);

}  // namespace dbkit
