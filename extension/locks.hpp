#pragma once
// Lock safety for apply: per-statement timeouts, the sessions that hold locks
// a migration needs, and the wait between retries.
#include <cstdint>
#include <set>
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

// A session's advisory lock, as pg_locks shows it.
struct AdvisoryLock {
	uint32 classid, objid;
	uint16 objsubid;
	bool exclusive;
	bool operator<(const AdvisoryLock &o) const;
};

// The advisory locks this backend holds, at any level. SPI must be connected.
std::set<AdvisoryLock> advisory_locks();

// Releases every advisory lock held now that was not in `before`, every time it
// was taken: after a rollback those are the session-level ones (pg_advisory_lock)
// that the rolled-back statements took, which a rollback does not release.
void release_new_session_locks(const std::set<AdvisoryLock> &before);

// Sleeps `ms` milliseconds, answering query cancellation meanwhile.
void interruptible_sleep(int64_t ms);

}  // namespace dbkit
