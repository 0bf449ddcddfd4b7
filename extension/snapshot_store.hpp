#pragma once
// The schema the migrations left: stored after every run that changed the
// history, compared by dbkit_drift().
#include <cstdint>
#include <string>

namespace dbkit {

struct Options;

// Stores the live schema for run `run_id` (the run's last migration `tag`) and
// keeps the newest ten. With the run's options, drizzle's table they name is the
// one left out of the snapshot (dbkit.snapshot(schema, table)), and the snapshot
// records it so that dbkit_drift() leaves out the same one; without (accept-drift),
// the one the newest snapshot recorded.
void store_snapshot(int64_t run_id, const std::string &tag, const Options *opts = nullptr);

// True when a snapshot is stored and the live schema no longer matches it (in
// the snapshot's own format: dbkit._live_like, see sql/dbkit--0.1.0--0.2.0.sql).
bool drifted_since_last_snapshot();

}  // namespace dbkit
