#include "reference_store.hpp"

#include <fmt/format.h>

#include "core/json.hpp"
#include "deploy_lock.hpp"
#include "folder_arg.hpp"
#include "locks.hpp"
#include "spi.hpp"
#include "subxact.hpp"
#include "touched.hpp"
#include "as_owner.hpp"
#include "settle_worker.hpp"

namespace dbkit {

namespace {
// Reading the catalogs' expressions takes ACCESS SHARE locks on every table with
// a default or an index: a session holding an unrelated table locked must not
// fail or stall a deploy whose migrations all ran. The snapshot gets a short
// lock wait in a subtransaction; if it cannot have its locks it is skipped.
constexpr int64_t kSnapshotLockTimeoutMs = 2000;

// Runs f in a subtransaction; a unique violation (a key the stored copy holds under
// another object: it no longer matches the catalogs) rolls it back and says false, as
// does f returning false. Any other error propagates.
template <typename F>
bool unless_key_clash(F &&f) {
	Subxact sx;
	try {
		bool ok = f();
		if (ok)
			sx.commit();
		else
			sx.rollback();
		return ok;
	} catch (const PgError &e) {
		int code = e.edata()->sqlerrcode;
		sx.rollback();
		if (code != ERRCODE_UNIQUE_VIOLATION)
			throw;
	}
	return false;
}

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
// Whether the newest reference can be carried forward object by object: the
// per-object copy is of it, it carries no drift, no DDL outside dbkit committed
// since (dbkit.dirty_objects) or is pending in this transaction, roles and event
// triggers are as they were, and no run since failed to record its snapshot.
// format: the drizzle table the run leaves out must be the one recorded.
// Then, which dbkit.dirty_objects rows stand in the way: none at all (clean); none
// that names no object (named: a drift read, or a run, can re-read their objects);
// none but dbkit's own statements not taken in yet (own_only: a non-transactional
// migration's, between its statements and its finish), which are no drift.
struct ReferenceCheck {
	bool usable = false, clean = false, named = false, own_only = false;
};

ReferenceCheck check_reference(const std::optional<std::string> &format) {
	ReferenceCheck c;
	if (touched_outside_pending())
		return c;
	spi::execute_cached(
	    "SELECT NOT EXISTS (SELECT 1 FROM dbkit.dirty_objects), "
	    "       NOT EXISTS (SELECT 1 FROM dbkit.dirty_objects d WHERE d.classid = 0), "
	    "       NOT EXISTS (SELECT 1 FROM dbkit.dirty_objects d WHERE NOT d.by_dbkit) "
	    "FROM (SELECT id, run_id FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s, dbkit.reference_state st "
	    "WHERE st.snapshot_id = s.id AND st.guard = dbkit._guard_fingerprint() "
	    "AND NOT EXISTS (SELECT 1 FROM dbkit.events e WHERE (e.detail ->> 'snapshot_skipped')::bool "
	    "                 AND e.id > coalesce(s.run_id, 0)) "
	    "AND ($1::pg_catalog.jsonb IS NULL OR (SELECT o.value FROM dbkit.reference_objects o "
	    "     WHERE o.key = 'dbkit:format') = $1::pg_catalog.jsonb)",
	    {spi::text_or_null(format)});
	if (spi::rows() == 0)
		return c;
	auto yes = [](int col) { return spi::get_text(0, col) == std::optional<std::string>("t"); };
	c.usable = true;
	c.clean = yes(1);
	c.named = yes(2);
	c.own_only = yes(3);
	return c;
}

std::string format_of(const Options &opts) {
	spi::execute("SELECT pg_catalog.jsonb_build_object('version', 2, 'drizzle_schema', $1, 'drizzle_table', $2)::text",
	             {spi::text(opts.drizzle_schema), spi::text(opts.drizzle_table)});
	return *spi::get_text(0, 1);
}

// The reference with the entries of `touched_oids` (oid[] text), of dbkit's own rows
// in dbkit.dirty_objects (by_dbkit: committed statements of a non-transactional
// migration, a deferred deploy's objects) and of what depends on them re-read; the
// caller checked that the per-object copy is the newest reference. false: drift not
// yet accepted touches those objects (nothing written; the caller reads in full or
// leaves the rows).
bool take_in(int64_t run_id, const std::string &tag, const std::string &drizzle_schema,
             const std::string &drizzle_table, const std::string &touched_oids) {
	spi::execute(
	    "SELECT coalesce(pg_catalog.max(d.id), 0)::text, "
	    "       pg_catalog.array_cat($1::pg_catalog.oid[], "
	    "         coalesce(pg_catalog.array_agg(d.objid) FILTER (WHERE d.by_dbkit), '{}'))::text, "
	    "       coalesce(pg_catalog.array_agg(DISTINCT d.objid) FILTER (WHERE NOT d.by_dbkit), '{}')::text "
	    "FROM dbkit.dirty_objects d",
	    {spi::text(touched_oids)});
	std::string last_row = *spi::get_text(0, 1), touched = *spi::get_text(0, 2), drifted = *spi::get_text(0, 3);
	spi::execute("SELECT dbkit._expand_touched($1::pg_catalog.oid[])::text", {spi::text(touched)});
	std::string objects = *spi::get_text(0, 1);
	bool carries_drift = drifted != "{}";
	if (carries_drift) {
		spi::execute("SELECT dbkit._expand_touched($1::pg_catalog.oid[]) OPERATOR(pg_catalog.&&) $2::pg_catalog.oid[]",
		             {spi::text(drifted), spi::text(objects)});
		if (spi::get_text(0, 1) != std::optional<std::string>("f"))
			return false;
	}
	// taken in now (rows written later are not: another session's, kept for drift)
	spi::execute("DELETE FROM dbkit.dirty_objects WHERE by_dbkit AND id <= $1::pg_catalog.int8", {spi::text(last_row)});
	std::vector<spi::Arg> args{spi::text(drizzle_schema), spi::text(drizzle_table), spi::text(objects)};
	spi::execute(
	    "WITH o AS (DELETE FROM dbkit.reference_objects WHERE objid = ANY ($3::pg_catalog.oid[]) "
	    "            OR relid = ANY ($3::pg_catalog.oid[]) RETURNING key, value) "
	    "SELECT coalesce(pg_catalog.jsonb_object_agg(key, value), '{}')::text FROM o",
	    args);
	std::string before = *spi::get_text(0, 1);
	// a key still held by an object outside the set (a unique violation) means the
	// stored copy no longer matches the catalogs: the caller's full read settles it
	spi::execute(
	    "WITH n AS (INSERT INTO dbkit.reference_objects (key, value, objid, relid) "
	    "           SELECT key, value, objid, relid FROM dbkit._snapshot_entries_of($1, $2, $3::pg_catalog.oid[]) "
	    "           RETURNING key, value) "
	    "SELECT coalesce(pg_catalog.jsonb_object_agg(key, value), '{}')::text FROM n",
	    args);
	std::string after = *spi::get_text(0, 1);
	spi::execute(
	    "WITH c AS (SELECT coalesce(pg_catalog.jsonb_object_agg(k, pg_catalog.jsonb_build_array("
	    "             $4::pg_catalog.jsonb OPERATOR(pg_catalog.->) k, $5::pg_catalog.jsonb OPERATOR(pg_catalog.->) k)), '{}') AS changes "
	    "           FROM (SELECT pg_catalog.jsonb_object_keys($4::pg_catalog.jsonb) UNION "
	    "                 SELECT pg_catalog.jsonb_object_keys($5::pg_catalog.jsonb)) keys(k) "
	    "           WHERE ($4::pg_catalog.jsonb OPERATOR(pg_catalog.->) k) IS DISTINCT FROM "
	    "                 ($5::pg_catalog.jsonb OPERATOR(pg_catalog.->) k)), "
	    "     s AS (INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot, changes, carries_drift) "
	    "           SELECT $1, $2, NULL, NULL, NULL, c.changes, $6::pg_catalog.bool FROM c RETURNING id) "
	    "UPDATE dbkit.reference_state SET snapshot_id = (SELECT id FROM s), owner_samples = o.samples, "
	    "  guard = dbkit._guard_fingerprint(o.samples), "
	    // still invalid: the ones that were, the set's, and any index newer than the last store
	    "  invalid_indexes = ARRAY(SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE NOT i.indisvalid "
	    "    AND (i.indexrelid = ANY (invalid_indexes) OR i.indexrelid = ANY ($3::pg_catalog.oid[]) "
	    "         OR i.indexrelid > coalesce(max_class_oid, 0))), "
	    "  max_class_oid = (SELECT pg_catalog.max(c.oid) FROM pg_catalog.pg_class c) "
	    "FROM (SELECT dbkit._owner_samples() AS samples OFFSET 0) o",  // OFFSET 0: called once, not at each use
	    {spi::int8(run_id), spi::text(tag), spi::text(objects), spi::jsonb_text(before), spi::jsonb_text(after),
	     spi::text(carries_drift ? "true" : "false")});
	return true;
}

// The reference after a run, re-reading only what the run's statements touched
// (and what depends on them): the previous one with those objects' entries
// replaced. false: it cannot be done safely this way (nothing written; the
// caller takes the full snapshot).
// dbkit.dirty_objects rows left by dbkit's own statements that committed earlier
// (a non-transactional migration's, by_dbkit) are the run's too. The others are
// drift not yet accepted: their objects keep their stored entries and their rows
// stay, so dbkit drift keeps reporting them from the dirty set. That holds only
// while the run touched none of those objects (both sides expanded by
// dbkit._expand_touched, which includes the tables their entries belong to, so
// disjoint object sets mean disjoint entries); otherwise the caller's full read
// with the drift carried key by key decides.
bool store_incremental(int64_t run_id, const std::string &tag, const Options &opts) {
	Touched t = touched_by_runs();
	if (t.unknown || t.outside)
		return false;
	AsExtensionOwner owner;
	ReferenceCheck c = check_reference(format_of(opts));
	if (!c.usable || !c.named)
		return false;
	return take_in(run_id, tag, opts.drizzle_schema, opts.drizzle_table, t.oids);
}

// The full read of a reference without carried drift, kept per object as well.
void store_full(const std::vector<spi::Arg> &args, bool with_opts) {
	AsExtensionOwner owner;
	spi::execute("DELETE FROM dbkit.reference_objects");
	if (with_opts)
		spi::execute("INSERT INTO dbkit.reference_objects (key, value, objid, relid) "
		             "SELECT key, value, objid, relid FROM dbkit.snapshot_entries($4, $5, NULL)",
		             args);
	else
		spi::execute("INSERT INTO dbkit.reference_objects (key, value, objid, relid) "
		             "SELECT e.key, e.value, e.objid, e.relid FROM (SELECT dbkit._reference_format() f) x, "
		             "LATERAL dbkit.snapshot_entries(coalesce(x.f ->> 'drizzle_schema', 'drizzle'), "
		             "  coalesce(x.f ->> 'drizzle_table', '__drizzle_migrations'), NULL) e");
	spi::execute(
	    "WITH s AS (INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot) "
	    "  SELECT $1, $2, pg_catalog.md5(m::text), dbkit.catalog_fingerprint(), m "
	    "  FROM (SELECT coalesce(pg_catalog.jsonb_object_agg(key, value), '{}'::pg_catalog.jsonb) m "
	    "        FROM dbkit.reference_objects) x RETURNING id) "
	    "UPDATE dbkit.reference_state SET snapshot_id = (SELECT id FROM s), owner_samples = o.samples, "
	    "  guard = dbkit._guard_fingerprint(o.samples), "
	    "  invalid_indexes = ARRAY(SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE NOT i.indisvalid), "
	    "  max_class_oid = (SELECT pg_catalog.max(c.oid) FROM pg_catalog.pg_class c) "
	    "FROM (SELECT dbkit._owner_samples() AS samples OFFSET 0) o",  // OFFSET 0: called once, not at each use
	    {args[0], args[1]});
}
}  // namespace

namespace {
// dbkit's own objects (dbkit.dirty_objects by_dbkit) that no named change by hand reaches,
// as oid[] (NULL: none); the hand rows are expanded once (MATERIALIZED) as the dirty set is,
// so a hand ALTER SEQUENCE on an identity's sequence reaches its table. Needs kHandCte.
constexpr const char *kHandCte =
    "hand AS MATERIALIZED (SELECT dbkit._expand_touched(coalesce((SELECT pg_catalog.array_agg(DISTINCT o.objid) "
    "    FROM dbkit.dirty_objects o WHERE NOT o.by_dbkit AND o.classid OPERATOR(pg_catalog.<>) 0), '{}')) AS h)";
constexpr const char *kOwnNotReached =
    "(SELECT pg_catalog.array_agg(DISTINCT d.objid) FROM dbkit.dirty_objects d, hand "
    "  WHERE d.by_dbkit AND d.objid OPERATOR(pg_catalog.<>) ALL (hand.h))";
// The same, without a deferred deploy's objects: the full comparison runs when roles
// changed or a command named no object (ALTER DEFAULT PRIVILEGES), which may have changed those objects
// too; compared, what the deploy did shows with it, rather than be taken in unseen
// when the worker re-reads them.
constexpr const char *kRunningNotReached =
    "(SELECT pg_catalog.array_agg(DISTINCT d.objid) FROM dbkit.dirty_objects d, hand "
    "  WHERE d.by_dbkit AND NOT d.deferred AND d.objid OPERATOR(pg_catalog.<>) ALL (hand.h))";
}  // namespace

DriftBasis drift_basis(bool need_set) {
	AsExtensionOwner owner;
	DriftBasis b;
	ReferenceCheck c = check_reference(std::nullopt);
	if (!c.usable)
		return b;
	b.current = c.clean;
	b.own_only = c.own_only;
	if (b.current) {
		b.dirty = "{}";
	} else if (c.named && (need_set || !b.own_only)) {
		// named: no classid 0 row, so kHandCte's filter of those changes nothing here
		spi::execute_cached((std::string("WITH ") + kHandCte +
		                     " SELECT dbkit._expand_touched(coalesce((SELECT pg_catalog.array_agg(DISTINCT d.objid) "
		                     "FROM dbkit.dirty_objects d), '{}'))::text, coalesce(" + kOwnNotReached + ", '{}')::text")
		                        .c_str());
		b.dirty = spi::get_text(0, 1);
		b.own = *spi::get_text(0, 2);
	}
	return b;
}

namespace {
// The live entries of the set and the stored ones of the same objects, side by side.
// clash: a live key the reference holds under an object outside the set (the stored
// copy no longer matches the catalogs: only a full read is right). $2 (drift; NULL
// when reading the live schema): objects whose entries are left out on both sides
// (dbkit's own statements not taken in yet), and with them indexes a concurrent build
// is still making (whoever's: once it ends, its DDL is in dbkit.dirty_objects, or the
// index is invalid, which drift reports).
constexpr const char *kDirtySides =
    "WITH a AS (SELECT $1::pg_catalog.oid[] AS a, CASE WHEN $2::pg_catalog.oid[] IS NOT NULL THEN "
    "    $2::pg_catalog.oid[] OPERATOR(pg_catalog.||) "
    "    ARRAY(SELECT p.index_relid FROM pg_catalog.pg_stat_progress_create_index p "
    "          WHERE p.index_relid OPERATOR(pg_catalog.<>) 0) END AS x), "
    "f AS (SELECT dbkit._reference_format() AS f), "
    "live AS MATERIALIZED (SELECT e.key, e.value FROM a, f, "
    "    dbkit._snapshot_entries_of(coalesce(f.f ->> 'drizzle_schema', 'drizzle'), "
    "                           coalesce(f.f ->> 'drizzle_table', '__drizzle_migrations'), a.a) e "
    "    WHERE NOT coalesce(e.objid OPERATOR(pg_catalog.=) ANY (a.x) OR e.relid OPERATOR(pg_catalog.=) ANY (a.x), false)), "
    "ref AS MATERIALIZED (SELECT o.key, o.value FROM dbkit.reference_objects o, a "
    "    WHERE (o.objid OPERATOR(pg_catalog.=) ANY (a.a) OR o.relid OPERATOR(pg_catalog.=) ANY (a.a)) "
    "      AND NOT coalesce(o.objid OPERATOR(pg_catalog.=) ANY (a.x) OR o.relid OPERATOR(pg_catalog.=) ANY (a.x), false)), "
    "clash AS (SELECT count(*) AS n FROM live JOIN dbkit.reference_objects o ON o.key = live.key, a "
    "    WHERE NOT coalesce(o.objid OPERATOR(pg_catalog.=) ANY (a.a), false) "
    "      AND NOT coalesce(o.relid OPERATOR(pg_catalog.=) ANY (a.a), false)) ";
}  // namespace

std::optional<std::vector<DirtyDiff>> dirty_diff(const std::string &objects, const std::string &left_out) {
	std::optional<std::vector<DirtyDiff>> out;
	bool read = with_short_lock_wait([&] {
		AsExtensionOwner owner;
		spi::execute((std::string(kDirtySides) +
		              "SELECT 0, (SELECT n FROM clash)::text, NULL, NULL "
		              "UNION ALL SELECT 1, coalesce(ref.key, live.key), ref.value::text, live.value::text "
		              "FROM ref FULL JOIN live ON ref.key = live.key WHERE ref.value IS DISTINCT FROM live.value "
		              "ORDER BY 1, 2")
		                 .c_str(),
		             {spi::text(objects), spi::text(left_out)});
		if (spi::rows() == 0 || spi::get_text(0, 2) != std::optional<std::string>("0"))
			return;
		out.emplace();
		for (uint64_t i = 1; i < spi::rows(); ++i)
			out->push_back({*spi::get_text(i, 2), spi::get_text(i, 3), spi::get_text(i, 4)});
	});
	if (!read)
		return std::nullopt;
	return out;
}

std::optional<std::string> dirty_snapshot(const std::string &objects) {
	std::optional<std::string> out;
	bool read = with_short_lock_wait([&] {
		AsExtensionOwner owner;
		spi::execute((std::string(kDirtySides) +
		              "SELECT (SELECT n FROM clash)::text, coalesce(pg_catalog.jsonb_object_agg(k.key, k.value), '{}')::text "
		              "FROM (SELECT o.key, o.value FROM dbkit.reference_objects o, a "
		              "      WHERE NOT coalesce(o.objid OPERATOR(pg_catalog.=) ANY (a.a), false) "
		              "        AND NOT coalesce(o.relid OPERATOR(pg_catalog.=) ANY (a.a), false) "
		              "      UNION ALL SELECT key, value FROM live) k")
		                 .c_str(),
		             {spi::text(objects), spi::text_or_null(std::nullopt)});
		if (spi::get_text(0, 1) == std::optional<std::string>("0"))
			out = spi::get_text(0, 2);
	});
	if (!read)
		return std::nullopt;
	return out;
}

bool defer_reference(int64_t run_id, const Options &opts) {
	if (!defer_reference_enabled())
		return false;
	Touched t = touched_by_runs();
	if (t.unknown || t.outside)
		return false;
	AsExtensionOwner owner;
	ReferenceCheck c = check_reference(format_of(opts));
	// only dbkit's own rows may be there: drift by hand goes through store_incremental's
	// rule (kept while the run touched none of its objects), decided now
	if (!c.usable || !c.named || !c.own_only)
		return false;
	// the worker re-reads as the extension's owner, which must be able to log in; rows
	// older than a minute with no worker alive to take them (none started, or its re-read
	// failed), or too many rows, are taken in by this run itself
	SettleWorkers workers = settle_workers();
	spi::execute_cached(
	    "SELECT r.oid::pg_catalog.int8, r.rolcanlogin "
	    "       AND NOT ($2::pg_catalog.int4 = 0 AND EXISTS (SELECT 1 FROM dbkit.dirty_objects d WHERE d.deferred "
	    "                          AND d.at < pg_catalog.now() - interval '1 minute')) "
	    "       AND (SELECT pg_catalog.count(*) FROM dbkit.dirty_objects d WHERE d.by_dbkit) < $1 "
	    "FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_roles r ON r.oid = e.extowner WHERE e.extname = 'dbkit'",
	    {spi::int8(kMaxDeferredRows), spi::int4(workers.alive ? 1 : 0)});
	if (spi::rows() == 0 || spi::get_text(0, 2) != std::optional<std::string>("t"))
		return false;
	Oid role = static_cast<Oid>(*spi::get_int64(0, 1));
	bool one_waits = workers.waiting;
	if (!one_waits && !start_settle_worker(role))
		return false;
	spi::execute(
	    "INSERT INTO dbkit.dirty_objects (classid, objid, by_dbkit, deferred) "
	    "SELECT u.c, u.o, true, true FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.oid[]), "
	    "                                         pg_catalog.unnest($2::pg_catalog.oid[])) u(c, o)",
	    {spi::text(t.classids), spi::text(t.oids)});
	// and a non-transactional migration's, whose statements committed one by one: finished now
	spi::execute("UPDATE dbkit.dirty_objects SET deferred = true WHERE by_dbkit AND NOT deferred");
	spi::execute("UPDATE dbkit.events SET detail = coalesce(detail, '{}') || '{\"reference\": \"deferred\"}' WHERE id = $1",
	             {spi::int8(run_id)});
	// the guard as this deploy leaves roles and owners, as a store would record it: a
	// REASSIGN OWNED (no event trigger fires) of a role the deploy made an owner, before
	// the re-read, then stops that re-read (settle_deferred) instead of being read in unseen
	spi::execute(
	    "UPDATE dbkit.reference_state SET owner_samples = o.samples, guard = dbkit._guard_fingerprint(o.samples) "
	    "FROM (SELECT dbkit._owner_samples() AS samples OFFSET 0) o");  // OFFSET 0: called once
	touched_taken_in();
	return true;
}

bool settle_deferred() {
	AsExtensionOwner owner;
	// the per-object copy is the newest reference, no run since failed to record one,
	// every row names an object, roles and event triggers are what they were (a role
	// renamed, or the audit's triggers disabled and enabled again, since: only a full
	// comparison tells, so the rows stay and drift reads compare those objects), and no
	// index is being built concurrently (its invalid entry would be taken in)
	spi::execute(
	    "SELECT f.value OPERATOR(pg_catalog.->>) 'drizzle_schema', f.value OPERATOR(pg_catalog.->>) 'drizzle_table', "
	    "       (SELECT pg_catalog.max(e.id) FROM dbkit.events e)::text, "
	    "       coalesce((SELECT m.tag FROM dbkit.migrations m ORDER BY m.id DESC LIMIT 1), '') "
	    "FROM (SELECT id, run_id FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s, dbkit.reference_state st, "
	    "     dbkit.reference_objects f "
	    "WHERE st.snapshot_id = s.id AND f.key = 'dbkit:format' AND st.guard = dbkit._guard_fingerprint() "
	    "AND EXISTS (SELECT 1 FROM dbkit.dirty_objects d WHERE d.deferred) "
	    "AND NOT EXISTS (SELECT 1 FROM dbkit.dirty_objects d WHERE d.classid = 0) "
	    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index) "
	    "AND NOT EXISTS (SELECT 1 FROM dbkit.events e WHERE (e.detail ->> 'snapshot_skipped')::bool "
	    "                 AND e.id > coalesce(s.run_id, 0))");
	if (spi::rows() == 0)
		return false;
	std::string schema = spi::get_text(0, 1).value_or("drizzle"), table = spi::get_text(0, 2).value_or("__drizzle_migrations");
	int64_t run_id = std::stoll(spi::get_text(0, 3).value_or("0"));
	std::string tag = spi::get_text(0, 4).value_or("");
	// DDL by others committed while the catalogs are read: this worker holds no lock on
	// the deploy's objects (the deploy did), so such a change could be read into their
	// entries. Its dirty_objects rows commit with it, and only reference stores delete
	// rows, under the deploy lock this worker holds: a different set of rows after the
	// read means the read may have seen it, and nothing is kept.
	const char *others = "SELECT pg_catalog.count(*)::text || ':' || coalesce(pg_catalog.sum(d.id), 0)::text "
	                     "FROM dbkit.dirty_objects d WHERE NOT d.by_dbkit";
	spi::execute(others);
	std::string before = *spi::get_text(0, 1);
	bool done = false;
	bool read = with_short_lock_wait([&] {
		done = unless_key_clash([&] {  // nothing stays then: a deploy reads in full
			if (!take_in(run_id, tag, schema, table, "{}"))
				return false;
			spi::execute(others);
			return *spi::get_text(0, 1) == before;
		});
	});
	if (read && done)
		spi::execute("DELETE FROM dbkit.snapshots WHERE id <= (SELECT max(id) - 10 FROM dbkit.snapshots)");
	return read && done;
}

Stored store_reference(int64_t run_id, const std::string &tag, const Options *opts,
                    const std::optional<std::string> &carried, bool incremental) {
	// With the run's options, drizzle's table they name is left out (and recorded in
	// the snapshot); without (accept-drift), the one the newest snapshot recorded.
	std::vector<spi::Arg> args{spi::int8(run_id), spi::text(tag), spi::text_or_null(carried)};
	if (opts) {
		args.push_back(spi::text(opts->drizzle_schema));
		args.push_back(spi::text(opts->drizzle_table));
	}
	const char *live = opts ? "dbkit.snapshot($4, $5)" : "dbkit.snapshot()";
	// Drift carried forward does not stop it: store_incremental keeps the drifted
	// objects' entries (and says no when the run touched one of them).
	if (incremental && opts) {
		bool done = false;
		bool stored_inc = with_short_lock_wait([&] {
			// nothing stays when it cannot be done this way: the full read follows
			done = unless_key_clash([&] { return store_incremental(run_id, tag, *opts); });
		});
		if (stored_inc && done) {
			touched_taken_in();
			spi::execute("DELETE FROM dbkit.snapshots WHERE id <= (SELECT max(id) - 10 FROM dbkit.snapshots)");
			return Stored::incrementally;
		}
	}
	bool stored = with_short_lock_wait([&] {
		{
			AsExtensionOwner owner;
			spi::execute("DELETE FROM dbkit.dirty_objects");  // this reference reads (or carries) them
			if (carried)
				spi::execute("UPDATE dbkit.reference_state SET snapshot_id = NULL, guard = NULL, invalid_indexes = NULL, "
				             "max_class_oid = NULL");
		}
		if (!carried) {
			store_full(args, opts != nullptr);  // $3 (no drift to carry) is NULL and unused
			return;
		}
		// Per object: what the run changed (live now differs from live before it) is
		// taken; what it left as the drift had it keeps the old reference. The catalog
		// fingerprint stays NULL, so the fast path never calls this reference "no drift".
		// The live snapshot is read once (MATERIALIZED) and both sides are joined by key
		// (a hash join): a lookup per key in a 10 MB snapshot is O(n) each, minutes in all.
		std::string sql = std::string("WITH s AS MATERIALIZED (SELECT ") + live + " AS s) "
		    "INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot) "
		    "SELECT $1, $2, pg_catalog.md5(m::text), NULL, m FROM ("
		    " SELECT coalesce(pg_catalog.jsonb_object_agg(k, v) FILTER (WHERE v IS NOT NULL), '{}'::pg_catalog.jsonb) m"
		    " FROM (SELECT coalesce(a.key, c.key) AS k, CASE WHEN c.value IS NOT NULL"
		    // a column's position moves when the run drops an earlier column: not a change of it
		    "   AND a.value OPERATOR(pg_catalog.-) 'position' IS NOT DISTINCT FROM"
		    "       NULLIF(c.value OPERATOR(pg_catalog.->) 'live', 'null'::pg_catalog.jsonb) OPERATOR(pg_catalog.-) 'position'"
		    "   THEN NULLIF(c.value OPERATOR(pg_catalog.->) 'ref', 'null'::pg_catalog.jsonb)"
		    "   ELSE a.value END AS v"
		    "  FROM pg_catalog.jsonb_each((SELECT s.s FROM s)) a"
		    "  FULL JOIN pg_catalog.jsonb_each($3::pg_catalog.jsonb) c ON c.key OPERATOR(pg_catalog.=) a.key) x) y";
		spi::execute(sql.c_str(), args);
	});
	touched_taken_in();
	if (!stored) {
		spi::execute("UPDATE dbkit.events SET detail = coalesce(detail, '{}') || '{\"snapshot_skipped\": true}' WHERE id = $1",
		             {spi::int8(run_id)});
		warn({core::Severity::Warning, "snapshot.skipped", tag,
		      "the schema snapshot was not recorded: another session holds a table locked; dbkit drift will say so "
		      "until one is recorded",
		      "Once the lock is gone: dbkit accept-drift --reason \"snapshot after the deploy\""});
		return Stored::skipped;
	}
	spi::execute("DELETE FROM dbkit.snapshots WHERE id <= (SELECT max(id) - 10 FROM dbkit.snapshots)");
	return Stored::fully;
}

void note_ddl_during_run(int64_t run_id, Stored how, bool stopped_half_way, const std::string &tag) {
	// merged: store_reference may have written snapshot_skipped there
	spi::execute("UPDATE dbkit.events SET detail = coalesce(detail, '{}') || pg_catalog.jsonb_build_object("
	             "'absorbed_drift', $2::pg_catalog.bool, 'ddl_during_run', true) WHERE id = $1",
	             {spi::int8(run_id), spi::text(how == Stored::fully ? "true" : "false")});
	if (how == Stored::skipped)
		return;  // no reference: store_reference's warning says so, and the changes are still in the dirty set
	const bool kept = how == Stored::incrementally;
	const char *when = stopped_half_way ? "while a non-transactional migration was stopped half-way"
	                                    : "while this non-transactional migration ran";
	if (kept)
		warn({core::Severity::Warning, "drift.carried", tag,
		      fmt::format("the schema was changed outside the migrations {}; those changes touch none of the "
		                  "migration's objects, so they are not taken into the reference this run records: dbkit "
		                  "drift reports them",
		                  when),
		      kHintDriftCarried});
	else
		warn({core::Severity::Warning, "drift.absorbed", tag,
		      fmt::format("the schema was changed outside the migrations {}; its own statements are in the "
		                  "schema too, and dbkit cannot tell those changes apart from them, so the reference this "
		                  "run records includes them",
		                  when),
		      "Review SELECT * FROM dbkit.ddl_audit ORDER BY id DESC for who changed what."});
}

bool reference_lost() {
	AsExtensionOwner owner;
	spi::execute(
	    "SELECT 1 FROM (SELECT id, snapshot FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s "
	    "WHERE s.snapshot IS NULL AND s.id IS DISTINCT FROM (SELECT snapshot_id FROM dbkit.reference_state)");
	return spi::rows() > 0;
}

std::optional<std::string> drift_before_run() {
	// No reference to compare with (a restored database): nothing can be carried; the
	// run records the schema as it is, and says so
	if (reference_lost()) {
		warn({core::Severity::Warning, "reference.lost", "",
		      std::string(kReferenceLostWhy) + ": the reference this run records is the schema as it is now, so changes "
		      "made outside the migrations before it cannot be told",
		      "Compare the schema with the code first if that matters: dbkit drift --dir."});
		return std::nullopt;
	}
	// No DDL outside dbkit since the reference (the event triggers' flag), roles and
	// event triggers unchanged: nothing to carry, and no catalog to read.
	DriftBasis basis = drift_basis(/*need_set=*/false);
	if (basis.current || basis.own_only)
		return std::nullopt;
	// Only named objects changed: their entries alone tell the drift.
	if (basis.dirty)
		if (auto diffs = dirty_diff(*basis.dirty, basis.own)) {
			if (diffs->empty())
				return std::nullopt;
			std::string json;
			for (const auto &d : *diffs)
				json += fmt::format("{}{}: {{\"ref\": {}, \"live\": {}}}", json.empty() ? "{" : ", ",
				                    core::json_quote(d.key), d.expected.value_or("null"), d.actual.value_or("null"));
			return json + "}";
		}
	spi::execute(
	    "SELECT catalog_fingerprint = dbkit.catalog_fingerprint() "
	    "FROM (SELECT catalog_fingerprint FROM dbkit.snapshots ORDER BY id DESC LIMIT 1) s");
	if (spi::rows() == 0 || spi::get_text(0, 1) == std::optional<std::string>("t"))
		return std::nullopt;  // no reference yet, or no catalog row changed since it
	std::optional<std::string> drift;
	if (!with_short_lock_wait([&] {
		    const std::string own = own_pending_keys();  // a chain's earlier migrations: dbkit's own, no drift
		    AsExtensionOwner owner;  // an incremental reference is read from dbkit.reference_objects
		    spi::execute(
		        // MATERIALIZED: each snapshot is read once (a flattened subquery would
		        // evaluate it again for every key), and the sides are joined by key (a
		        // hash join: a lookup per key in a 10 MB snapshot costs O(n) each; with
		        // both, minutes at 10,000 tables)
		        "WITH r AS MATERIALIZED (SELECT dbkit.reference() AS s), "
		        "     l AS MATERIALIZED (SELECT dbkit._live_like(r.s) AS s FROM r), "
		        "     n AS MATERIALIZED (SELECT CASE WHEN r.s OPERATOR(pg_catalog.?) 'dbkit:format' THEN l.s "
		        "                          ELSE dbkit.snapshot('drizzle', '__drizzle_migrations') END AS s FROM r, l) "
		        "SELECT pg_catalog.jsonb_object_agg(coalesce(a.key, b.key), pg_catalog.jsonb_build_object("
		        "         'ref', a.value, 'live', c.value)) "
		        "FROM pg_catalog.jsonb_each((SELECT r.s FROM r)) a "
		        "FULL JOIN pg_catalog.jsonb_each((SELECT l.s FROM l)) b ON a.key OPERATOR(pg_catalog.=) b.key "
		        "LEFT JOIN pg_catalog.jsonb_each((SELECT n.s FROM n)) c ON c.key OPERATOR(pg_catalog.=) coalesce(a.key, b.key) "
		        "WHERE a.value IS DISTINCT FROM b.value AND coalesce(a.key, b.key) NOT LIKE 'dbkit:%' "
		        "AND coalesce(a.key, b.key) OPERATOR(pg_catalog.<>) ALL ($1::pg_catalog.text[])",
		        {spi::text(own)});
		    drift = spi::get_text(0, 1);  // NULL: nothing differs
	    }))
		return std::nullopt;  // cannot tell now; dbkit drift can
	return drift;
}

std::string own_pending_keys() {
	// dbkit's own objects that no named change by hand reaches (as drift_basis's `own`: a table
	// changed by hand too is compared, the migration's change shown with the hand one), read
	// through the set expanded as the dirty path does (an index's entry comes with its table's),
	// then only their entries kept, and their parts' (a constraint an ALTER TABLE added: the
	// event names the table, the entry is the constraint's)
	AsExtensionOwner owner;
	spi::execute_cached(
	    (std::string("WITH ") + kHandCte + ", own AS (SELECT o FROM (SELECT " + kRunningNotReached +
	     " AS o) x WHERE o IS NOT NULL), "
	     "     f AS (SELECT dbkit._reference_format() AS f) "
	     "SELECT coalesce(pg_catalog.array_agg(DISTINCT k.key), '{}')::text FROM ("
	     "  SELECT e.key FROM own, f, dbkit._snapshot_entries_of(coalesce(f.f ->> 'drizzle_schema', 'drizzle'), "
	     "      coalesce(f.f ->> 'drizzle_table', '__drizzle_migrations'), dbkit._expand_touched(own.o)) e "
	     "    WHERE e.objid OPERATOR(pg_catalog.=) ANY (own.o) OR e.relid OPERATOR(pg_catalog.=) ANY (own.o) "
	     "  UNION ALL SELECT r.key FROM own, dbkit.reference_objects r WHERE r.objid OPERATOR(pg_catalog.=) ANY (own.o) "
	     "    OR r.relid OPERATOR(pg_catalog.=) ANY (own.o)) k")
	        .c_str());
	return spi::get_text(0, 1).value_or("{}");
}

bool audited_ddl_since_last_reference() {
	spi::execute(
	    "SELECT EXISTS (SELECT 1 FROM dbkit.ddl_audit WHERE at >= "
	    "(SELECT taken_at FROM dbkit.snapshots ORDER BY id DESC LIMIT 1))");
	return spi::get_text(0, 1) == std::optional<std::string>("t");
}

}  // namespace dbkit
