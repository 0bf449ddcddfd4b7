#include "deploy_lock.hpp"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

#include "errcodes.hpp"
#include "spi.hpp"
#include "sql_version.hpp"
#include "subxact.hpp"

namespace dbkit {

LOCKTAG deploy_lock_tag() {
	LOCKTAG tag;
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, static_cast<uint32>(kDeployLockKey >> 32),
	                     static_cast<uint32>(kDeployLockKey), kDeployLockField4);
	return tag;
}

bool only_worker_holds_deploy_lock() {
	return PgCall([]() noexcept {
		LOCKTAG tag = deploy_lock_tag();
		int n = 0;
		VirtualTransactionId *vxids = GetLockConflicts(&tag, ExclusiveLock, &n);  // other backends only
		for (int i = 0; i < n; ++i) {
			PGPROC *proc = BackendIdGetProc(vxids[i].backendId);
			if (!proc || !proc->isBackgroundWorker)
				return false;  // only dbkit's worker takes this tag as a background worker
		}
		return n > 0;
	});
}

bool may_take_deploy_lock(Oid user) {
	AclMode mask = PgCall([&]() noexcept -> AclMode {
		Oid nsp = get_namespace_oid("dbkit", true);
		Oid rel = OidIsValid(nsp) ? get_relname_relid("migrations", nsp) : InvalidOid;
		if (!OidIsValid(rel))
			return 0;
		return pg_class_aclmask(rel, user, ACL_INSERT | ACL_UPDATE | ACL_DELETE, ACLMASK_ANY);
	});
	return mask != 0;
}

void check_deploy_privilege() {
	Oid user = GetUserId();
	if (may_take_deploy_lock(user))
		return;
	const char *name = PgCall([&]() noexcept { return GetUserNameFromId(user, true); });
	std::string role = name ? name : std::to_string(user);
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
	            fmt::format("permission denied: role {} may not take dbkit's deploy lock (it cannot write dbkit's "
	                        "history, dbkit.migrations)",
	                        role),
	            fmt::format("Make it a deployer once, as a superuser: SELECT {}.dbkit_grant_deployer('{}');",
	                        extension_schema(), role));
}

std::string deploy_lock_holders() {
	// held here, so by no other (every taker asks for ExclusiveLock): no query, whose
	// planning costs a fresh backend a few milliseconds (a deploy asks right after taking it)
	LOCKTAG tag = deploy_lock_tag();
	if (PgCall([&]() noexcept { return LockHeldByMe(&tag, ExclusiveLock); }))
		return {};
	spi::execute(
	    "SELECT a.pid, coalesce(a.usename::text, '?'), coalesce(nullif(a.application_name, ''), 'no application_name'), "
	    "coalesce(pg_catalog.host(a.client_addr), 'local'), "
	    "coalesce(pg_catalog.to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?'), coalesce(a.state, '?'), "
	    "coalesce(pg_catalog.date_trunc('second', pg_catalog.clock_timestamp() - a.state_change)::text, '?'), "
	    "pg_catalog.left(pg_catalog.regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 100), "
	    "a.backend_type IS NOT DISTINCT FROM $5 "
	    "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
	    "WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid() "
	    "AND l.database = $1::pg_catalog.oid AND l.classid = $2::pg_catalog.oid AND l.objid = $3::pg_catalog.oid "
	    "AND l.objsubid = $4::pg_catalog.int2 ORDER BY a.backend_start",
	    {spi::text(std::to_string(MyDatabaseId)), spi::text(std::to_string(uint32(kDeployLockKey >> 32))),
	     spi::text(std::to_string(uint32(kDeployLockKey))), spi::text(std::to_string(kDeployLockField4)),
	     spi::text(kSettleWorkerType)});
	std::string out;
	for (uint64_t i = 0; i < spi::rows(); ++i) {
		// the worker by its backend type, which no session can take (its application name any can)
		bool worker = spi::get_text(i, 9) == std::optional<std::string>("t");
		std::string who = worker ? fmt::format("{} user {}", core::settle_worker_holder_mark(), core::holder_field(*spi::get_text(i, 2)))
		                         : fmt::format("(user {}, application {}, client {}", core::holder_field(*spi::get_text(i, 2)),
		                                       core::holder_field(*spi::get_text(i, 3)), *spi::get_text(i, 4));
		out += fmt::format("{}pid {} {}, connected since {}, {} for {}){}", out.empty() ? "" : "\n", *spi::get_text(i, 1),
		                   who, *spi::get_text(i, 5), *spi::get_text(i, 6), *spi::get_text(i, 7),
		                   spi::get_text(i, 8).value_or("").empty() ? "" : ": " + core::holder_field(*spi::get_text(i, 8)));
	}
	return out;
}

bool take_deploy_lock_quietly(bool session, int64_t wait_ms) {
	LOCKTAG tag = deploy_lock_tag();
	LockAcquireResult got = PgCall([&]() noexcept { return LockAcquire(&tag, ExclusiveLock, session, true); });
	if (got != LOCKACQUIRE_NOT_AVAIL)
		return true;
	if (wait_ms <= 0)
		return false;
	// Wait in the lock queue (first come, first served; the deadlock detector
	// sees it), bounded by lock_timeout set to the wait for this one acquire.
	// No catalog snapshot is kept while waiting: CALL dbkit_deploy_lock() waits
	// holding no snapshot at all.
	PgCall([]() noexcept { InvalidateCatalogSnapshot(); });
	int saved = LockTimeout;
	Subxact sx;
	LockTimeout = static_cast<int>(std::min<int64_t>(wait_ms, INT_MAX));
	try {
		PgCall([&]() noexcept { (void)LockAcquire(&tag, ExclusiveLock, session, false); });
		LockTimeout = saved;
		sx.commit();
		return true;
	} catch (const PgError &e) {
		LockTimeout = saved;
		if (e.edata()->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			throw;  // cancel, statement_timeout, deadlock: Subxact rolls back
		sx.rollback();
	}
	return false;
}

void acquire_deploy_lock(bool session, int64_t wait_ms) {
	check_deploy_privilege();
	bool timed_out = !take_deploy_lock_quietly(session, wait_ms);
	if (!timed_out)
		return;
	std::string holders = deploy_lock_holders();
	throw Error(ERRCODE_LOCK_NOT_AVAILABLE,
	            fmt::format("another session holds dbkit's deploy lock{}: {}",
	                        wait_ms > 0 ? fmt::format(" (waited {} ms)", wait_ms) : "",
	                        holders.empty() ? "it has just released it" : holders),
	            "Another deploy or history repair is running: wait for it, or end that session if it is stuck "
	            "(SELECT pg_terminate_backend(pid)). dbkit migrate --wait DURATION sets how long to wait (default "
	            "10min; option lock_wait in ms from SQL).");
}

void lock_history(int64_t wait_ms) { acquire_deploy_lock(false, wait_ms); }

}  // namespace dbkit

using namespace dbkit;

namespace {
// This session's session-level holds on the lock, all released; true if there was one.
bool release_own_session_lock() {
	LOCKTAG tag = deploy_lock_tag();
	bool released = false;
	while (PgCall([&]() noexcept { return LockHeldByMe(&tag, ExclusiveLock); }) &&
	       PgCall([&]() noexcept { return LockRelease(&tag, ExclusiveLock, true); }))
		released = true;
	return released;
}
}  // namespace

// CALL dbkit_deploy_lock(wait_ms): the client's first statement. Commits the
// CALL's transaction, then waits for the lock at session level holding no
// snapshot; the lock lasts until the session ends (or dbkit_deploy_unlock()).
DBKIT_FUNCTION(dbkit_deploy_lock) {
	int64_t wait_ms = PG_ARGISNULL(0) ? kDefaultLockWaitMs : PG_GETARG_INT64(0);
	if (wait_ms < 0)
		throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "dbkit_deploy_lock: wait_ms must be 0 or more");
	check_deploy_privilege();
	bool nonatomic = fcinfo->context && IsA(fcinfo->context, CallContext) &&
	                 !castNode(CallContext, fcinfo->context)->atomic;
	if (nonatomic)
		PgCall([]() noexcept {
			if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
				elog(ERROR, "SPI_connect_ext failed");
			SPI_commit();
			SPI_finish();
		});
	// Held already by this server session: by a client before this one, when a pooler in
	// transaction mode hands server sessions from client to client (pgbouncer's
	// pool_mode = transaction). Taken again, it would let two deploys run at once.
	LOCKTAG tag = deploy_lock_tag();
	if (PgCall([&]() noexcept { return LockHeldByMe(&tag, ExclusiveLock); }))
		throw Error(DBKIT_LOCK_SHARED_SESSION,
		            "this server session already holds dbkit's deploy lock: the connection goes through a pooler "
		            "that gives one server session to several clients (pgbouncer's pool_mode = transaction or "
		            "statement), or this session took it before",
		            "Deploy over a direct connection, or through session pooling (pool_mode = session; Supabase's "
		            "session pooler): a deploy holds its lock, and runs a non-transactional migration statement by "
		            "statement, in one server session. From SQL, SELECT dbkit_deploy_unlock() releases the lock "
		            "this session holds.");
	spi::connect();
	acquire_deploy_lock(true, wait_ms);
	spi::finish();
	PG_RETURN_VOID();
}

// Releases this session's session-level holds on the lock (taken by
// dbkit_deploy_lock); true if there was one.
DBKIT_FUNCTION(dbkit_deploy_unlock) { PG_RETURN_BOOL(release_own_session_lock()); }

// The deploy lock a client took in server session `pid` and cannot release from the
// session it is in now: a pooler in transaction mode handed its statements to other
// server sessions, and the lock stays with that one (every later deploy would wait on
// it). Ends that session, as the caller (PostgreSQL's rules on who may), only while it
// holds the lock at session level and is idle: the pooler opens another. True if ended.
DBKIT_FUNCTION(dbkit_deploy_unlock_stranded) {
	check_deploy_privilege();
	int32_t pid = PG_GETARG_INT32(0);
	if (pid == MyProcPid) {
		PG_RETURN_BOOL(release_own_session_lock());
	}
	spi::connect();
	spi::execute(
	    "SELECT pg_catalog.pg_terminate_backend(a.pid) FROM pg_catalog.pg_stat_activity a "
	    "JOIN pg_catalog.pg_locks l ON l.pid = a.pid "
	    "WHERE a.pid = $5::pg_catalog.int4 AND a.state = 'idle' AND l.locktype = 'advisory' AND l.granted "
	    "AND l.database = $1::pg_catalog.oid AND l.classid = $2::pg_catalog.oid AND l.objid = $3::pg_catalog.oid "
	    "AND l.objsubid = $4::pg_catalog.int2",
	    {spi::text(std::to_string(MyDatabaseId)), spi::text(std::to_string(uint32(kDeployLockKey >> 32))),
	     spi::text(std::to_string(uint32(kDeployLockKey))), spi::text(std::to_string(kDeployLockField4)),
	     spi::text(std::to_string(pid))});
	bool ended = spi::rows() > 0 && spi::get_text(0, 1) == std::optional<std::string>("t");
	spi::finish();
	PG_RETURN_BOOL(ended);
}

// Who holds the lock now (one line per session), or NULL when it is free.
DBKIT_FUNCTION(dbkit_deploy_lock_holder) {
	spi::connect();
	std::string h = deploy_lock_holders();
	spi::finish();
	if (h.empty())
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(PgCall([&]() noexcept { return cstring_to_text_with_len(h.data(), static_cast<int>(h.size())); }));
}
