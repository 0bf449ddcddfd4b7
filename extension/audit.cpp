// Event triggers: record DDL run outside dbkit's own runs in dbkit.ddl_audit.
//
// At each DDL statement the triggers only read what it did (a read-only query
// on pg_event_trigger_ddl_commands() / _dropped_objects()) into a list kept in
// the transaction's memory. The rows are written once, just before the
// transaction commits, in one internal subtransaction: a failure to write them
// becomes a WARNING and the user's DDL still commits.
//
// Why not write each statement's rows at once, in its own subtransaction (the
// first design)? A subtransaction's commit walks state that grows with the
// whole transaction (pending relation deletes, the relcache's end-of-xact list,
// the lock table), so a restore-like script of N CREATEs in one transaction
// paid O(N^2): 1,000 tables took 19.5 s instead of 10.4 s.
//
// C-style on purpose: no C++ object lives across the longjmp-protected regions.
#include "audit.hpp"
#include "guard.hpp"
#include "run_state.hpp"

#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

namespace {

const char *kSelectDdl =
    "SELECT c.command_tag, c.object_type, c.object_identity, c.schema_name "
    "FROM pg_catalog.pg_event_trigger_ddl_commands() c "
    "WHERE c.schema_name IS DISTINCT FROM 'dbkit' AND NOT c.in_extension";

// sql_drop rows take the command tag from the event.
const char *kSelectDrop =
    "SELECT NULL, d.object_type, d.object_identity, d.schema_name "
    "FROM pg_catalog.pg_event_trigger_dropped_objects() d "
    "WHERE d.schema_name IS DISTINCT FROM 'dbkit' AND NOT d.is_temporary";

const char *kInsert =
    "INSERT INTO dbkit.ddl_audit (at, event, command_tag, object_type, object_identity, schema_name, "
    "current_user_name, application_name, statement, client_addr, backend_pid) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, pg_catalog.inet_client_addr(), pg_catalog.pg_backend_pid())";

constexpr int kInsertArgs = 9;

struct PendingRow {
	int level;  // transaction nesting level that recorded it
	TimestampTz at;
	const char *text[kInsertArgs - 1];  // event, command_tag, object_type, object_identity, schema_name,
	                                    // current_user_name, application_name, statement
};

List *g_pending = NIL;        // of PendingRow *, in TopTransactionContext
Oid g_writer = InvalidOid;    // the audit functions' owner: writes dbkit.ddl_audit at commit
bool g_callbacks = false;

char *keep(const char *s) { return s ? MemoryContextStrdup(TopTransactionContext, s) : nullptr; }

void capture(const char *select, const char *event, const char *tag, const char *user) {
	const char *app = GetConfigOption("application_name", true, false);
	const char *stmt = debug_query_string;  // what current_query() returns
	TimestampTz now = GetCurrentTimestamp();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(select, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dbkit audit: reading the event's objects failed");
	for (uint64 i = 0; i < SPI_processed; ++i) {
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		char *cmd = SPI_getvalue(tup, desc, 1);
		PendingRow *row = static_cast<PendingRow *>(MemoryContextAllocZero(TopTransactionContext, sizeof(PendingRow)));
		row->level = GetCurrentTransactionNestLevel();
		row->at = now;
		row->text[0] = keep(event);
		row->text[1] = keep(cmd ? cmd : tag);
		row->text[2] = keep(SPI_getvalue(tup, desc, 2));
		row->text[3] = keep(SPI_getvalue(tup, desc, 3));
		row->text[4] = keep(SPI_getvalue(tup, desc, 4));
		row->text[5] = keep(user);
		row->text[6] = keep(app);
		row->text[7] = keep(stmt);
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
		g_pending = lappend(g_pending, row);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
}

// Writes the pending rows in one subtransaction, as the audit functions' owner.
void flush() {
	List *rows = g_pending;
	g_pending = NIL;  // whatever happens below, they are written at most once
	// DROP EXTENSION dbkit in this transaction took dbkit.ddl_audit with it
	if (rows == NIL || !OidIsValid(g_writer) || !OidIsValid(get_extension_oid("dbkit", true)))
		return;
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid save_uid;
	int save_sec;
	GetUserIdAndSecContext(&save_uid, &save_sec);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		SetUserIdAndSecContext(g_writer, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
		PushActiveSnapshot(GetTransactionSnapshot());  // none is active at commit time
		// the user's search_path is in effect at commit, not the functions' own
		int guc_level = NewGUCNestLevel();
		(void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
		                        true, 0, false);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		Oid types[kInsertArgs] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		                          TEXTOID,        TEXTOID, TEXTOID, TEXTOID};
		SPIPlanPtr plan = SPI_prepare(kInsert, kInsertArgs, types);
		if (!plan)
			elog(ERROR, "audit insert: %s", SPI_result_code_string(SPI_result));
		ListCell *lc;
		foreach (lc, rows) {
			PendingRow *row = static_cast<PendingRow *>(lfirst(lc));
			Datum values[kInsertArgs];
			char nulls[kInsertArgs];
			values[0] = TimestampTzGetDatum(row->at);
			nulls[0] = ' ';
			for (int k = 1; k < kInsertArgs; ++k) {
				const char *t = row->text[k - 1];
				values[k] = t ? CStringGetTextDatum(t) : (Datum)0;
				nulls[k] = t ? ' ' : 'n';
			}
			int rc = SPI_execute_plan(plan, values, nulls, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "audit insert failed: %s", SPI_result_code_string(rc));
		}
		SPI_finish();
		AtEOXact_GUC(true, guc_level);
		PopActiveSnapshot();
		SetUserIdAndSecContext(save_uid, save_sec);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		ErrorData *edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();  // also restores the user id
		SetUserIdAndSecContext(save_uid, save_sec);
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		ereport(WARNING,
		        (errmsg("dbkit could not record this transaction's DDL in dbkit.ddl_audit: %s", edata->message),
		         errhint("The DDL itself is committed. Check dbkit's installation, or SET dbkit.audit = off.")));
	}
	PG_END_TRY();
}

void at_xact(XactEvent event, void *) {
	switch (event) {
	case XACT_EVENT_PRE_COMMIT:
	case XACT_EVENT_PRE_PREPARE:
		flush();
		break;
	case XACT_EVENT_COMMIT:
	case XACT_EVENT_ABORT:
	case XACT_EVENT_PREPARE:
	case XACT_EVENT_PARALLEL_COMMIT:
	case XACT_EVENT_PARALLEL_ABORT:
		g_pending = NIL;  // its memory went with TopTransactionContext
		break;
	default:
		break;
	}
}

// A rolled-back subtransaction's DDL did not happen; a committed one's now
// belongs to its parent.
void at_subxact(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
	if (g_pending == NIL || (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB))
		return;
	int level = GetCurrentTransactionNestLevel();
	List *kept = NIL;
	ListCell *lc;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	foreach (lc, g_pending) {
		PendingRow *row = static_cast<PendingRow *>(lfirst(lc));
		if (row->level >= level) {
			if (event == SUBXACT_EVENT_ABORT_SUB)
				continue;
			row->level = level - 1;
		}
		kept = lappend(kept, row);
	}
	MemoryContextSwitchTo(old);
	g_pending = kept;
}

Datum audit(FunctionCallInfo fcinfo, const char *select, const char *event) noexcept {
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("dbkit audit functions run only as event triggers")));
	if (!dbkit::audit_enabled() || dbkit::in_run() || creating_extension)
		PG_RETURN_NULL();
	// pg_restore replays a dump's DDL: that is not a change to the schema, and the
	// dump carries the audit rows it had.
	const char *app = GetConfigOption("application_name", true, false);
	if (app && strcmp(app, "pg_restore") == 0)
		PG_RETURN_NULL();
	if (!g_callbacks) {
		RegisterXactCallback(at_xact, NULL);
		RegisterSubXactCallback(at_subxact, NULL);
		g_callbacks = true;
	}
	g_writer = GetUserId();  // SECURITY DEFINER: the functions' owner
	EventTriggerData *trig = reinterpret_cast<EventTriggerData *>(fcinfo->context);
	// The role that ran the DDL is the outer one.
	const char *user = GetUserNameFromId(GetOuterUserId(), true);
	capture(select, event, GetCommandTagName(trig->tag), user ? user : "");
	PG_RETURN_NULL();
}

}  // namespace

void dbkit::flush_pending_audit() {
	if (g_pending != NIL)
		dbkit::PgCall([]() noexcept { flush(); });
}

// No C++ objects with destructors here: these bodies are plain C-style calls.
extern "C" {
PG_FUNCTION_INFO_V1(dbkit_audit_ddl);
PG_FUNCTION_INFO_V1(dbkit_audit_drop);
Datum dbkit_audit_ddl(PG_FUNCTION_ARGS) { return audit(fcinfo, kSelectDdl, "ddl_command_end"); }
Datum dbkit_audit_drop(PG_FUNCTION_ARGS) { return audit(fcinfo, kSelectDrop, "sql_drop"); }
}
