#pragma once
// The schema the migrations left: stored after every run that changed the
// history, compared by dbkit_drift().
#include <cstdint>
#include <string>

namespace dbkit {

// Stores dbkit.snapshot() for run `run_id` (the run's last migration `tag`) and
// keeps the newest ten.
void store_snapshot(int64_t run_id, const std::string &tag);

// True when a snapshot is stored and the live schema no longer matches it.
bool drifted_since_last_snapshot();

// True when dbkit.ddl_audit holds DDL run outside dbkit since the last snapshot:
// drift that a fingerprint cannot show while a non-transactional migration's own
// committed statements are part of the live schema (resuming one).
bool audited_ddl_since_last_snapshot();

}  // namespace dbkit
