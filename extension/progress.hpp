#pragma once
// Non-transactional migrations run statement by statement at top level; their
// progress is committed as it happens in dbkit.progress, so a run that failed
// or was interrupted half-way is known exactly.
#include <cstdint>
#include <string>

namespace dbkit {

// Raises DK009 when a non-transactional migration stopped half-way (unless
// `resume`): nothing else may run until it is resumed or resolved.
void refuse_if_interrupted(bool resume);

// Session-level hold on dbkit's deploy lock across the statements' transactions.
void hold_session_lock(int64_t wait_ms = 600000);
void release_session_lock();

// Indexes left invalid (a failed CREATE INDEX CONCURRENTLY), "a, b"; empty if none.
std::string invalid_indexes();

}  // namespace dbkit
