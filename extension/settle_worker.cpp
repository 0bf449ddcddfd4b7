// The background worker that takes a deferred deploy's objects into the
// reference (settle_worker.hpp). It waits for the deploy lock, which the deploy's
// transaction holds until its commit and the client's session until it ends, so
// it reads what the deploy committed and never races another deploy.
#include "settle_worker.hpp"

#include <cstring>

#include "deploy_lock.hpp"
#include "errcodes.hpp"
#include "reference_store.hpp"
#include "spi.hpp"

namespace {
bool g_defer = true;
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
	                         "Off: every deploy re-reads them itself before it commits, holding its locks meanwhile.",
	                         &g_defer, true, PGC_USERSET, 0, NULL, NULL, NULL);
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
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(main_arg), role, 0);
	pgstat_report_appname(kSettleWorkerType);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	pgstat_report_activity(STATE_RUNNING, kSettleWorkerWaiting);
	(void)Guard("dbkit_settle_main", []() -> Datum {
		spi::connect();
		// No snapshot while waiting (acquire_deploy_lock drops the catalog one): the client
		// holds the lock through a chain of non-transactional migrations, and a
		// CREATE INDEX CONCURRENTLY waits for every snapshot older than its own
		try {
			acquire_deploy_lock(false, kLockWaitMs);
		} catch (const Error &e) {
			if (e.sqlstate() != ERRCODE_LOCK_NOT_AVAILABLE)
				throw;
			// still held: the next deploy takes the rows in (docs/design.md)
			spi::finish();
			return 0;
		}
		PgCall([]() noexcept {
			pgstat_report_activity(STATE_RUNNING, "re-reading the last deploys' objects into dbkit's reference");
			PushActiveSnapshot(GetTransactionSnapshot());
		});
		settle_deferred();
		PgCall([]() noexcept { PopActiveSnapshot(); });
		spi::finish();
		return 0;
	});
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}
