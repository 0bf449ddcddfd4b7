#pragma once
// The re-read after the commit (docs/design.md, "The re-read after the commit"):
// a transactional deploy leaves the objects it touched as deferred rows of
// dbkit.dirty_objects instead of re-reading them while it holds its locks, and a
// background worker takes them into the reference once the deploy's session let
// go of the deploy lock. Drift reads treat the rows as dbkit's own meanwhile.
#include "pg.hpp"

namespace dbkit {

// Setting dbkit.defer_reference (on by default): on makes a deploy leave its objects
// to the worker; off, every deploy re-reads them itself before its commit.
bool defer_reference_enabled();
void define_settle_settings();  // from _PG_init

// What a worker waiting for the deploy lock shows as its query in pg_stat_activity: one
// that waits takes in every deferred row committed before it gets the lock, so a run
// that finds one starts no other (a chain of 31 non-transactional migrations, one
// finish each, would otherwise fill max_worker_processes).
inline constexpr const char *kSettleWorkerWaiting = "waiting for dbkit's deploy lock, to re-read the last deploys' objects";

// This database's workers, from the backends' status (pg_stat_activity's source, without
// planning a query on that view): any alive; one waiting for the lock (kSettleWorkerWaiting).
struct SettleWorkers {
	bool alive = false, waiting = false;
};
SettleWorkers settle_workers();

// Starts the worker for this database, to run as `role` (the extension's owner,
// which must be able to log in). false: it could not be started (no free slot in
// max_worker_processes); the caller re-reads the objects itself.
bool start_settle_worker(Oid role);

}  // namespace dbkit

extern "C" {
PGDLLEXPORT void dbkit_settle_main(Datum main_arg);
}
