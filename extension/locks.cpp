#include "locks.hpp"

#include <tuple>

#include <fmt/format.h>

#include "spi.hpp"

namespace dbkit {

void set_local_timeouts(int64_t lock_timeout_ms, int64_t statement_timeout_ms) {
	spi::execute(
	    "SELECT pg_catalog.set_config('lock_timeout', $1, true), pg_catalog.set_config('statement_timeout', $2, true)",
	    {spi::text(std::to_string(lock_timeout_ms)), spi::text(std::to_string(statement_timeout_ms))});
}

Oid resolve_relation(const std::string &quoted_name) {
	const char *name = quoted_name.c_str();
	try {
		return PgCall([&]() noexcept {
			RangeVar *rv = makeRangeVarFromNameList(stringToQualifiedNameList(name));
			return RangeVarGetRelid(rv, NoLock, true);
		});
	} catch (const PgError &) {
		return InvalidOid;  // not a name at all: nothing to look up
	}
}

// Whether another transaction holds any lock on the relation, asked of the lock
// manager itself (shared memory, fast-path slots included): the common answer,
// no, costs no query (the one below planned ~3 ms in a fresh backend). A
// lock mode conflicting with every other one (AccessExclusive) finds any holder.
// During recovery the lock manager keeps the answer's array for itself: the
// query decides.
static bool locked_by_others(Oid relid) {
	return PgCall([&]() noexcept {
		if (RecoveryInProgress())
			return true;
		LOCKTAG tag;
		SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
		int n = 0;
		VirtualTransactionId *vxids = GetLockConflicts(&tag, AccessExclusiveLock, &n);
		pfree(vxids);
		return n > 0;
	});
}

std::string lock_holders(const std::vector<std::string> &tables) {
	std::string list;
	for (const auto &t : tables)
		if (Oid relid = resolve_relation(t); relid != InvalidOid && locked_by_others(relid))
			list += (list.empty() ? "" : "\n") + std::to_string(relid);
	if (list.empty())
		return {};
	spi::execute(
	    "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), coalesce(a.state, '?'), "
	    "coalesce(pg_catalog.date_trunc('second', pg_catalog.clock_timestamp() - coalesce(a.xact_start, a.query_start))::text, '?'), "
	    "pg_catalog.left(pg_catalog.regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 100), "
	    "pg_catalog.string_agg(DISTINCT l.relation::pg_catalog.regclass::text || ' ' || l.mode, ', ') "
	    "FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
	    "WHERE l.locktype = 'relation' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid() "
	    "AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) "
	    "AND l.relation IN (SELECT x::pg_catalog.oid FROM pg_catalog.unnest(pg_catalog.string_to_array($1, "
	    "E'\\n')) x) "
	    "GROUP BY 1, 2, 3, 4, 5 ORDER BY 4 DESC",
	    {spi::text(list)});
	std::string out;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		out += fmt::format("{}pid {} ({}, {} for {}) holds {}: {}", out.empty() ? "" : "\n", *spi::get_text(i, 1),
		                   *spi::get_text(i, 2), *spi::get_text(i, 3), *spi::get_text(i, 4),
		                   spi::get_text(i, 6).value_or(""), spi::get_text(i, 5).value_or(""));
	return out;
}

void interruptible_sleep(int64_t ms) {
	while (ms > 0) {
		long slice = static_cast<long>(std::min<int64_t>(ms, 100));
		PgCall([&]() noexcept {
			CHECK_FOR_INTERRUPTS();
			pg_usleep(slice * 1000L);
		});
		ms -= slice;
	}
}

bool AdvisoryLock::operator<(const AdvisoryLock &o) const {
	return std::tie(classid, objid, objsubid, exclusive) < std::tie(o.classid, o.objid, o.objsubid, o.exclusive);
}

// The advisory locks this backend holds, at any level.
std::set<AdvisoryLock> advisory_locks() {
	spi::execute(
	    "SELECT classid::pg_catalog.text, objid::pg_catalog.text, objsubid::pg_catalog.text, "
	    "(mode = 'ExclusiveLock')::pg_catalog.text FROM pg_catalog.pg_locks "
	    "WHERE locktype = 'advisory' AND pid = pg_catalog.pg_backend_pid() AND granted "
	    "AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())");
	std::set<AdvisoryLock> out;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		out.insert({static_cast<uint32>(std::stoul(*spi::get_text(i, 1))),
		            static_cast<uint32>(std::stoul(*spi::get_text(i, 2))),
		            static_cast<uint16>(std::stoul(*spi::get_text(i, 3))), *spi::get_text(i, 4) == "true"});
	return out;
}

// After the rollback, every advisory lock that was not held before the dry run
// is a session-level one a migration took (pg_advisory_lock): a rollback does
// not release those. Release them, every time it was taken.
void release_new_session_locks(const std::set<AdvisoryLock> &before) {
	for (const AdvisoryLock &l : advisory_locks()) {
		if (before.count(l))
			continue;
		PgCall([&]() noexcept {
			LOCKTAG tag;
			SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, l.classid, l.objid, l.objsubid);
			LOCKMODE mode = l.exclusive ? ExclusiveLock : ShareLock;
			for (int i = 0; i < 100000 && LockHeldByMe(&tag, mode); ++i)
				if (!LockRelease(&tag, mode, true))
					break;
		});
	}
}

}  // namespace dbkit
