#include "snapshot_store.hpp"

#include "folder_arg.hpp"
#include "locks.hpp"
#include "spi.hpp"
#include "subxact.hpp"

namespace dbkit {

namespace {
// Reading the catalogs' expressions takes ACCESS SHARE locks on every table with
// a default or an index: a session holding an unrelated table locked must not
// fail or stall a deploy whose migrations all ran. The snapshot gets a short
// lock wait in a subtransaction; if it cannot have its locks it is skipped.
constexpr int64_t kSnapshotLockTimeoutMs = 2000;

template <typename F>
bool with_short_lock_wait(F &&f) {
	Subxact sx;
	try {
		set_local_timeouts(kSnapshotLockTimeoutMs, 0);
		f();
		sx.commit();
		return true;
	} catch (const PgError &e) {
		int code = e.edata()->sqlerrcode;
		sx.rollback();  // also restores the migration's timeouts
		if (code != ERRCODE_LOCK_NOT_AVAILABLE && code != ERRCODE_T_R_DEADLOCK_DETECTED)
			throw;
		return false;
	}
}
}  // namespace

void store_snapshot(int64_t run_id, const std::string &tag, const Options *opts) {
	bool stored = with_short_lock_wait([&] {
		if (opts)
			spi::execute(
			    "INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot) "
			    "SELECT $1, $2, pg_catalog.md5(s::text), dbkit.catalog_fingerprint(), s FROM dbkit.snapshot($3, $4) s",
			    {spi::int8(run_id), spi::text(tag), spi::text(opts->drizzle_schema), spi::text(opts->drizzle_table)});
		else
			spi::execute(
			    "INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot) "
			    "SELECT $1, $2, pg_catalog.md5(s::text), dbkit.catalog_fingerprint(), s FROM dbkit.snapshot() s",
			    {spi::int8(run_id), spi::text(tag)});
	});
	if (!stored) {
		spi::execute("UPDATE dbkit.events SET detail = coalesce(detail, '{}') || '{\"snapshot_skipped\": true}' WHERE id = $1",
		             {spi::int8(run_id)});
		warn({core::Severity::Warning, "snapshot.skipped", tag,
		      "the schema snapshot was not recorded: another session holds a table locked; dbkit drift will say so "
		      "until one is recorded",
		      "Once the lock is gone: dbkit accept-drift --reason \"snapshot after the deploy\""});
		return;
	}
	spi::execute("DELETE FROM dbkit.snapshots WHERE id <= (SELECT max(id) - 10 FROM dbkit.snapshots)");
}

bool drifted_since_last_snapshot() {
	spi::execute(
	    "SELECT fingerprint, catalog_fingerprint = dbkit.catalog_fingerprint() "
	    "FROM (SELECT fingerprint, catalog_fingerprint FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s");
	// the live schema as the reference's format sees it: a 0.1.0 reference lacks
	// owners, privileges, rules, ... (dbkit._live_like)
	if (spi::rows() == 0)
		return false;  // nothing recorded yet: no snapshot to take
	std::string stored = *spi::get_text(0, 1);
	if (spi::get_text(0, 2) == std::optional<std::string>("t"))
		return false;  // no catalog row changed since: no drift, and no snapshot to build
	std::optional<std::string> live;
	if (!with_short_lock_wait([&] {
		    spi::execute(
		        "SELECT pg_catalog.md5(dbkit._live_like((SELECT snapshot FROM dbkit.snapshots ORDER BY id DESC LIMIT 1))::text)");
		    live = spi::get_text(0, 1);
	    }))
		return false;  // cannot tell now; dbkit drift can
	return live != stored;
}

}  // namespace dbkit
