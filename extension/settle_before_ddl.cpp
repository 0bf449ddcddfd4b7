// A change by hand right after a deferred deploy (docs/design.md, "Settled before a
// change by hand"): the ddl_command_start trigger takes the deploy's objects into the
// reference before the first DDL of a transaction runs, so the re-read never sees
// that change and drift reports it alone, not the deploy's own changes with it.
//
// It never fails the user's statement: anything that stops it (the deploy lock held
// by a running deploy, an isolation level that reads an older snapshot, an error)
// leaves the rows to the worker as before, and drift stays correct (it reports the
// deploy's objects with the hand change, never the hand change hidden).
#include "deploy_lock.hpp"
#include "reference_store.hpp"
#include "run_state.hpp"
#include "spi.hpp"
#include "subxact.hpp"

#include <algorithm>

namespace {

// How long a hand DDL waits for the worker to finish its re-read (it holds the lock for
// tens of milliseconds). A deploy holding the lock is not waited for.
constexpr int kWorkerWaitMs = 5000;
constexpr int kPollMs = 10;
// Below this statement_timeout (ms) nothing is tried: the re-read would risk ending the statement.
constexpr int kMinStatementTimeoutMs = 10000;

LocalTransactionId g_checked = InvalidLocalTransactionId;  // once per transaction

void release_deploy_lock() {
	LOCKTAG tag = dbkit::deploy_lock_tag();
	dbkit::PgCall([&]() noexcept { (void)LockRelease(&tag, ExclusiveLock, false); });
}

// The deploy lock until the transaction ends, waiting only while the worker holds it.
// Polls rather than queueing: this transaction may hold locks a deploy waits for, and a
// queued wait would be a deadlock the detector resolves by failing one of the two.
enum class Got { no, for_xact, already };
Got lock_unless_deploying(int wait_ms) {
	LOCKTAG tag = dbkit::deploy_lock_tag();
	for (int waited = 0;; waited += kPollMs) {
		LockAcquireResult r =
		    dbkit::PgCall([&]() noexcept { return LockAcquire(&tag, ExclusiveLock, false, true); });
		if (r == LOCKACQUIRE_ALREADY_HELD || r == LOCKACQUIRE_ALREADY_CLEAR) {
			// this session holds it at session level (CALL dbkit_deploy_lock()): a second,
			// transaction-level hold would make PREPARE TRANSACTION fail
			release_deploy_lock();
			return Got::already;
		}
		if (r != LOCKACQUIRE_NOT_AVAIL)
			return Got::for_xact;
		if (!dbkit::only_worker_holds_deploy_lock() || waited >= wait_ms)
			return Got::no;
		dbkit::PgCall([]() noexcept {
			pg_usleep(kPollMs * 1000L);
			CHECK_FOR_INTERRUPTS();
		});
	}
}

void settle_first() {
	// only a deployer: the deploy lock it holds until its commit would otherwise let a
	// role that can merely connect hold up every deploy (deploy_lock.hpp)
	if (!dbkit::may_take_deploy_lock(GetUserId()))
		return;
	// a statement_timeout leaves the wait at most a tenth of it
	int wait_ms = StatementTimeout > 0 ? std::min(kWorkerWaitMs, StatementTimeout / 10) : kWorkerWaitMs;
	dbkit::spi::connect();
	dbkit::Subxact sx;
	std::string failed;
	try {
		Got got = lock_unless_deploying(wait_ms);
		// settle_deferred finds nothing to do when the worker took them in while we waited
		if (got != Got::no && !dbkit::settle_deferred() && got == Got::for_xact)
			release_deploy_lock();  // nothing written; held otherwise, as a deploy holds it
		sx.commit();
	} catch (const dbkit::PgError &e) {
		int code = e.edata()->sqlerrcode;
		sx.rollback();
		if (code == ERRCODE_QUERY_CANCELED || code == ERRCODE_ADMIN_SHUTDOWN)
			throw;
		failed = e.what();
	} catch (const dbkit::Error &e) {
		sx.rollback();
		failed = e.what();
	}
	if (!failed.empty())  // said outside the handlers
		dbkit::PgCall([&]() noexcept {
			ereport(WARNING, (errmsg("dbkit: the last deploy's objects could not be taken into the drift reference "
			                         "before this statement: %s",
			                         failed.c_str()),
			                  errhint("Nothing is lost: the background worker takes them in later, and dbkit drift "
			                          "may then report the deploy's own changes with this one until accept-drift.")));
		});
	dbkit::spi::finish();
}

}  // namespace

extern "C" {
PG_FUNCTION_INFO_V1(dbkit_settle_before_ddl);
}

// Whether dbkit.dirty_objects holds a deferred row now, through its partial index of
// them (dirty_objects_deferred): every transaction that runs DDL asks, and the table may
// hold many rows of drift not yet read. No SPI, no plan. C-style: PostgreSQL's errors
// longjmp through it.
static bool deferred_rows_now(void) {
	Oid nsp = get_namespace_oid("dbkit", true);
	Oid relid = OidIsValid(nsp) ? get_relname_relid("dirty_objects", nsp) : InvalidOid;
	Oid index = OidIsValid(nsp) ? get_relname_relid("dirty_objects_deferred", nsp) : InvalidOid;
	if (!OidIsValid(relid) || !OidIsValid(index))
		return false;
	Relation rel = table_open(relid, AccessShareLock);
	Snapshot snap = RegisterSnapshot(GetLatestSnapshot());
	SysScanDesc sd = systable_beginscan(rel, index, true, snap, 0, NULL);
	bool found = HeapTupleIsValid(systable_getnext(sd));
	systable_endscan(sd);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return found;
}

// C-style checks first: most DDL (and every statement of a dbkit run) returns here
// without a query.
extern "C" Datum dbkit_settle_before_ddl(PG_FUNCTION_ARGS) {
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("dbkit_settle_before_ddl runs only as an event trigger")));
	// Not in: dbkit's own statements; a standby; REPEATABLE READ and SERIALIZABLE (the
	// snapshot may predate the deploy); clusters with prepared transactions (a prepared one
	// would keep the deploy lock with no session to end); a transaction already checked.
	if (creating_extension || dbkit::in_run() || RecoveryInProgress() || IsolationUsesXactSnapshot() ||
	    max_prepared_xacts > 0 || MyProc->lxid == g_checked)
		PG_RETURN_NULL();
	// only the transaction's first DDL: after it, a re-read would see this session's change
	g_checked = MyProc->lxid;
	// nor after anything this transaction wrote: REASSIGN OWNED, for one, fires no event
	// trigger, and the re-read would take its uncommitted change in unseen
	if (TransactionIdIsValid(GetTopTransactionIdIfAny()))
		PG_RETURN_NULL();
	// a short statement_timeout would end the statement during the re-read (~50 ms)
	if (StatementTimeout > 0 && StatementTimeout < kMinStatementTimeoutMs)
		PG_RETURN_NULL();
	EventTriggerData *trig = reinterpret_cast<EventTriggerData *>(fcinfo->context);
	if (trig->parsetree && IsA(trig->parsetree, CreateStmt) &&
	    castNode(CreateStmt, trig->parsetree)->relation->relpersistence == RELPERSISTENCE_TEMP)
		PG_RETURN_NULL();  // a temporary table is never drift: no query for it
	// pg_restore replays a dump (the audit ignores it too, believed only from a superuser)
	const char *app = GetConfigOption("application_name", true, false);
	if (app && strcmp(app, "pg_restore") == 0 && superuser_arg(GetSessionUserId()))
		PG_RETURN_NULL();
	if (!deferred_rows_now())
		PG_RETURN_NULL();
	return dbkit::Guard("dbkit_settle_before_ddl", []() -> Datum {
		settle_first();
		return 0;
	});
}
