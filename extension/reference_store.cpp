#include "reference_store.hpp"

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

void store_reference(int64_t run_id, const std::string &tag, const Options *opts,
                    const std::optional<std::string> &carried) {
	// With the run's options, drizzle's table they name is left out (and recorded in
	// the snapshot); without (accept-drift), the one the newest snapshot recorded.
	std::vector<spi::Arg> args{spi::int8(run_id), spi::text(tag), spi::text_or_null(carried)};
	if (opts) {
		args.push_back(spi::text(opts->drizzle_schema));
		args.push_back(spi::text(opts->drizzle_table));
	}
	const char *live = opts ? "dbkit.snapshot($4, $5)" : "dbkit.snapshot()";
	bool stored = with_short_lock_wait([&] {
		if (!carried) {
			std::string sql = std::string("INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot) "
			                              "SELECT $1, $2, pg_catalog.md5(s::text), dbkit.catalog_fingerprint(), s "
			                              "FROM ") + live + " s";  // $3 (no drift to carry) is NULL and unused
			spi::execute(sql.c_str(), args);
			return;
		}
		// Per object: what the run changed (live now differs from live before it) is
		// taken; what it left as the drift had it keeps the old reference. The catalog
		// fingerprint stays NULL, so the fast path never calls this reference "no drift".
		std::string sql = std::string(
		    "INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot) "
		    "SELECT $1, $2, pg_catalog.md5(m::text), NULL, m FROM ("
		    " SELECT coalesce(pg_catalog.jsonb_object_agg(k, v) FILTER (WHERE v IS NOT NULL), '{}'::pg_catalog.jsonb) m"
		    " FROM (SELECT keys.k, CASE WHEN c.value IS NOT NULL"
		    "   AND (s.s OPERATOR(pg_catalog.->) keys.k) IS NOT DISTINCT FROM"
		    "       NULLIF(c.value OPERATOR(pg_catalog.->) 'live', 'null'::pg_catalog.jsonb)"
		    "   THEN NULLIF(c.value OPERATOR(pg_catalog.->) 'ref', 'null'::pg_catalog.jsonb)"
		    "   ELSE s.s OPERATOR(pg_catalog.->) keys.k END AS v"
		    "  FROM (SELECT ") + live + " AS s) s"
		    "  CROSS JOIN LATERAL (SELECT pg_catalog.jsonb_object_keys(s.s) UNION"
		    "                      SELECT pg_catalog.jsonb_object_keys($3::pg_catalog.jsonb)) keys(k)"
		    "  LEFT JOIN LATERAL pg_catalog.jsonb_each($3::pg_catalog.jsonb) c ON c.key OPERATOR(pg_catalog.=) keys.k) x) y";
		spi::execute(sql.c_str(), args);
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

std::optional<std::string> drift_before_run() {
	spi::execute(
	    "SELECT catalog_fingerprint = dbkit.catalog_fingerprint() "
	    "FROM (SELECT catalog_fingerprint FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s");
	if (spi::rows() == 0 || spi::get_text(0, 1) == std::optional<std::string>("t"))
		return std::nullopt;  // no reference yet, or no catalog row changed since it
	std::optional<std::string> drift;
	if (!with_short_lock_wait([&] {
		    spi::execute(
		        "SELECT pg_catalog.jsonb_object_agg(keys.k, pg_catalog.jsonb_build_object("
		        "         'ref', r.s OPERATOR(pg_catalog.->) keys.k, 'live', n.s OPERATOR(pg_catalog.->) keys.k)) "
		        "FROM (SELECT snapshot AS s FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) r, "
		        "     LATERAL (SELECT dbkit._live_like(r.s) AS s) l, "
		        "     LATERAL (SELECT CASE WHEN r.s OPERATOR(pg_catalog.?) 'dbkit:format' THEN l.s "
		        "                          ELSE dbkit.snapshot('drizzle', '__drizzle_migrations') END AS s) n, "
		        "     LATERAL (SELECT pg_catalog.jsonb_object_keys(r.s) UNION SELECT pg_catalog.jsonb_object_keys(l.s)) keys(k) "
		        "WHERE (r.s OPERATOR(pg_catalog.->) keys.k) IS DISTINCT FROM (l.s OPERATOR(pg_catalog.->) keys.k) "
		        "AND keys.k NOT LIKE 'dbkit:%'");
		    drift = spi::get_text(0, 1);  // NULL: nothing differs
	    }))
		return std::nullopt;  // cannot tell now; dbkit drift can
	return drift;
}

bool audited_ddl_since_last_reference() {
	spi::execute(
	    "SELECT EXISTS (SELECT 1 FROM dbkit.ddl_audit WHERE at >= "
	    "(SELECT taken_at FROM dbkit.snapshots ORDER BY id DESC LIMIT 1))");
	return spi::get_text(0, 1) == std::optional<std::string>("t");
}

}  // namespace dbkit
