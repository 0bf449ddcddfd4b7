#pragma once
// The schema the migrations left: stored after every run that changed the
// history, compared by dbkit_drift().
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dbkit {

struct Options;

// The hint of a warning that drift stays drift (drift.carried), wherever a run says so.
inline constexpr const char *kHintDriftCarried =
    "Review SELECT * FROM dbkit.ddl_audit ORDER BY id DESC for who changed what, then run dbkit accept-drift "
    "--reason TEXT if the change is meant to stay, or undo it.";

// The drift present before a run: for each object whose live definition differs
// from the stored reference, both definitions ({"key": {"ref": ..., "live": ...}}, as
// jsonb text). nullopt when there is none (or no reference yet, or the schema cannot
// be read now without waiting on locks). Which objects differ is judged in the
// reference's own format (a 0.1.0 reference against the live schema cut down to it);
// "live" is always the current format, which store_reference compares the schema
// after the run with, so a deploy right after the upgrade carries the drift too.
std::optional<std::string> drift_before_run();

// The newest reference is kept per object (dbkit.reference_objects), and those rows are
// not where its snapshot row says: pg_dump/pg_restore copies dbkit.snapshots, not the
// per-object copy (its object ids would not hold in another database either).
bool reference_lost();
inline constexpr const char *kReferenceLostWhy =
    "the schema reference the newest snapshot row points to is not in this database (pg_dump and pg_restore copy "
    "dbkit's history and snapshots, not its per-object reference)";

// Stores the reference for run `run_id` (the run's last migration `tag`) and keeps
// the newest ten. The reference is the live schema, except that drift found before
// the run (`carried`) is carried forward: an object the run's migrations left as the
// drift had it keeps its old reference definition, so dbkit drift keeps reporting it
// until dbkit accept-drift or a migration that changes the object. Never absorbed.
// With the run's options, drizzle's table they name is the one left out of the
// snapshot (dbkit.snapshot(schema, table)), and the snapshot records it so that
// dbkit_drift() leaves out the same one; without (accept-drift), the one the newest
// snapshot recorded.
// incremental: the run's own statements are all in this transaction (not a
// non-transactional migration's), so the reference may be the previous one with
// only what they touched re-read (docs/design.md, "Incremental references"); it
// falls back to the full read whenever that is not known to be equal.
// dbkit.dirty_objects rows of dbkit's own statements that committed one by one (a
// non-transactional migration's, by_dbkit) are re-read with the run's objects. Other
// rows are drift: with `carried` or not, while the run touched none of their
// objects the incremental reference keeps their entries and their rows, so drift
// is still told from the dirty set (a deploy with drift pending stays O(touched));
// else the full read carries it key by key.
// Says how: incrementally (DDL by others since the previous reference is still drift,
// unless the run touched its objects: then the full read ran), by the full read, or not
// at all (a table was locked: the run's event says snapshot_skipped).
enum class Stored { incrementally, fully, skipped };
Stored store_reference(int64_t run_id, const std::string &tag, const Options *opts = nullptr,
                    const std::optional<std::string> &carried = std::nullopt, bool incremental = true);

// A run's objects left for the settle worker (settle_worker.hpp) instead of re-read now:
// this transaction's (dbkit_apply) written as deferred rows of dbkit.dirty_objects, and
// the committed statements' of a non-transactional migration (its finish) marked so;
// drift reads treat them as dbkit's own until the worker takes them in. false (nothing
// written; the caller stores the reference itself): the setting is off, the run touched
// something that names no object or ran DDL outside dbkit, the reference is not the
// per-object copy or has drift pending, too many rows wait already (kMaxDeferredRows) or
// some waited over a minute with no worker alive, the extension's owner cannot log in, or
// no worker starts.
inline constexpr int64_t kMaxDeferredRows = 500;
bool defer_reference(int64_t run_id, const Options &opts);
// The worker's part: dbkit's own rows (deferred and by_dbkit) taken into the reference
// (take_in in reference_store.cpp), recorded as a snapshot row under the newest event.
// false: nothing to take in, the reference is not usable for it, drift pending touches
// those objects, or a lock was not granted in time: the rows stay for the next run.
bool settle_deferred();

// DDL by others while a non-transactional migration ran or was stopped half-way (the audit
// says so): still drift, reported by dbkit drift, when the reference was stored
// incrementally; taken into it with the run's own statements by the full read; neither when
// none was stored (store_reference said so). Warns which, and records it in run `run_id`'s
// event (absorbed_drift, ddl_during_run), merged into its detail.
void note_ddl_during_run(int64_t run_id, Stored how, bool stopped_half_way, const std::string &tag = {});

// What a drift read may rely on, from one look at dbkit's state:
// - current: the newest reference is the live schema as far as the event triggers
//   and the guard (roles, event triggers) can tell: a poll needs no catalog read;
// - dirty: DDL outside dbkit since the reference named only objects (every
//   dbkit.dirty_objects row names one): those objects and everything whose entries
//   they can change (dbkit._expand_touched), as oid[] text ("{}" when current).
//   Everything else is in the reference as it is live.
// Neither: only a full read can tell.
// - own_only: what changed since is only dbkit's own statements that no reference
//   took in yet (dbkit.dirty_objects by_dbkit: a non-transactional migration between
//   its statements and its finish, or stopped half-way): no drift, though the live
//   schema is not the reference; own: those objects (oid[] text), never compared as drift.
struct DriftBasis {
	bool current = false, own_only = false;
	std::optional<std::string> dirty;
	std::string own = "{}";
};
// need_set false: a caller that stops at current or own_only (no drift either way) is
// spared expanding the dirty set, which a chain of non-transactional migrations grows.
DriftBasis drift_basis(bool need_set = true);

// One entry that differs between the reference and the live schema.
struct DirtyDiff {
	std::string key;
	std::optional<std::string> expected, actual;  // jsonb text; nullopt: absent on that side
};
// The differing entries on the set drift_basis() returned: the reference's entries of
// those objects against their live entries, nothing else read. nullopt: a live key
// is held in the reference by an object outside the set, or a lock was not granted
// in time: the caller reads the whole schema.
// left_out: objects whose entries are compared on neither side (DriftBasis::own).
std::optional<std::vector<DirtyDiff>> dirty_diff(const std::string &objects, const std::string &left_out);
// The live schema as the reference with the set's entries re-read (what
// dbkit.snapshot() returns, as jsonb text), or nullopt as for dirty_diff.
std::optional<std::string> dirty_snapshot(const std::string &objects);

// The keys of dbkit's own statements not taken in yet (dbkit.dirty_objects by_dbkit: a
// non-transactional migration between its statements and its finish, or a chain of them
// before its last finish), live and stored, as text[] ("{}" when none). A full comparison
// leaves them out, as the dirty path does (DriftBasis::own): they are no drift. Their
// entries and their parts' (objid or relid), as there: a change by hand to the same
// objects while roles or event triggers changed (the full path) is not told from dbkit's.
std::string own_pending_keys();

// True when dbkit.ddl_audit holds DDL run outside dbkit since the last snapshot:
// drift that a fingerprint cannot show while a non-transactional migration's own
// committed statements are part of the live schema (resuming one).
bool audited_ddl_since_last_reference();

}  // namespace dbkit
