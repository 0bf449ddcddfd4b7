// The background worker that takes a deferred deploy's objects into the
// reference (settle_worker.hpp). It waits for the deploy lock, which the deploy's
// transaction holds until its commit and the client's session until it ends, so
// it reads what the deploy committed and never races another deploy.
#include "settle_worker.hpp"

#include <cstring>

#include "deploy_lock.hpp"
#include "reference_store.hpp"
#include "spi.hpp"

namespace {
bool g_defer = true;  // docs/design.md, "The re-read after the commit"; off: the old path
// How long the worker waits for the deploy lock, as long as a deploy does by default:
// the client holds it until it exits, through a whole chain of non-transactional
// migrations (whose finishes take the rows in meanwhile).
constexpr int64_t kLockWaitMs = dbkit::kDefaultLockWaitMs;
}  // namespace

namespace dbkit {

bool defer_reference_enabled() { return g_defer; }

void define_settle_settings() {
	DefineCustomBoolVariable("dbkit.defer_reference",
	                         "Re-read a deploy's objects for the drift reference after its commit, in a background worker.",
	                         "On (the default): shorter deploys, which leave the re-read to a worker or to the first "
	                         "DDL by hand after them. Off: every deploy re-reads them itself before it commits, holding "
	                         "its locks meanwhile.",
	                         &g_defer, true, PGC_USERSET, 0, NULL, NULL, NULL);
}

SettleWorkers settle_workers() {
	int found = PgCall([]() noexcept {  // bit 1: alive, bit 2: waiting
		int bits = 0;
		pgstat_clear_snapshot();  // as they are now, not as this transaction first read them
		int n = pgstat_fetch_stat_numbackends();
		for (int i = 1; i <= n; ++i) {
			LocalPgBackendStatus *l = pgstat_fetch_stat_local_beentry(i);
			if (!l || l->backendStatus.st_databaseid != MyDatabaseId || l->backendStatus.st_backendType != B_BG_WORKER)
				continue;
			const char *type = GetBackgroundWorkerTypeByPid(l->backendStatus.st_procpid);
			if (!type || strcmp(type, kSettleWorkerType) != 0)
				continue;
			bits |= 1;
			if (l->backendStatus.st_activity_raw && strcmp(l->backendStatus.st_activity_raw, kSettleWorkerWaiting) == 0)
				bits |= 2;
		}
		return bits;
	});
	SettleWorkers w;
	w.alive = (found & 1) != 0;
	w.waiting = (found & 2) != 0;
	return w;
}

bool start_settle_worker(Oid role) {
	BackgroundWorker w;
	std::memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w.bgw_library_name, "dbkit", BGW_MAXLEN);
	strlcpy(w.bgw_function_name, "dbkit_settle_main", BGW_MAXLEN);
	strlcpy(w.bgw_name, kSettleWorkerType, BGW_MAXLEN);
	strlcpy(w.bgw_type, kSettleWorkerType, BGW_MAXLEN);
	w.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	std::memcpy(w.bgw_extra, &role, sizeof(role));
	w.bgw_notify_pid = 0;
	return PgCall([&]() noexcept { return RegisterDynamicBackgroundWorker(&w, NULL); });
}

}  // namespace dbkit

using namespace dbkit;

extern "C" void dbkit_settle_main(Datum main_arg) {
	Oid role;
	std::memcpy(&role, MyBgworkerEntry->bgw_extra, sizeof(role));
	pqsignal(SIGTERM, die);  // FATAL at the next interrupt check, not inside the signal handler
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(main_arg), role, 0);
	pgstat_report_appname(kSettleWorkerType);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, kSettleWorkerWaiting);
	(void)Guard("dbkit_settle_main", []() -> Datum {
		// Nothing read from the catalogs before the lock is granted: not even a catalog
		// snapshot for a moment, which a CREATE INDEX CONCURRENTLY of the client's run
		// (the session holding the lock) would catch and then wait for: a deadlock
		if (!take_deploy_lock_quietly(false, kLockWaitMs))
			return 0;  // still held: the next deploy takes the rows in (docs/design.md)
		PgCall([]() noexcept {
			pgstat_report_activity(STATE_RUNNING, "re-reading the last deploys' objects into dbkit's reference");
			PushActiveSnapshot(GetTransactionSnapshot());
		});
		spi::connect();
		settle_deferred();
		spi::finish();
		PgCall([]() noexcept { PopActiveSnapshot(); });
		return 0;
	});
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}
