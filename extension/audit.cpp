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
#include "touched.hpp"
#include "core/secrets.hpp"

#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

namespace {

// The command (column 5) names a GRANT's objects, which object_identity does not.
const char *kSelectDdl =
    "SELECT c.command_tag, c.object_type, c.object_identity, c.schema_name, c.command "
    "FROM pg_catalog.pg_event_trigger_ddl_commands() c "
    "WHERE c.schema_name IS DISTINCT FROM 'dbkit' AND NOT c.in_extension "
    // temporary objects are never schema drift (event triggers report their schema as pg_temp)
    "AND c.schema_name IS DISTINCT FROM 'pg_temp'";

// sql_drop rows take the command tag from the event.
const char *kSelectDrop =
    "SELECT NULL, d.object_type, d.object_identity, d.schema_name "
    "FROM pg_catalog.pg_event_trigger_dropped_objects() d "
    "WHERE d.schema_name IS DISTINCT FROM 'dbkit' AND NOT d.is_temporary";

const char *kInsert =
    "INSERT INTO dbkit.ddl_audit (at, event, command_tag, object_type, object_identity, schema_name, "
    "current_user_name, application_name, statement, client_addr, backend_pid) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, pg_catalog.inet_client_addr(), pg_catalog.pg_backend_pid()) "
    "RETURNING id";

// What a row keeps of the statement. Any role may run DDL that fires the triggers
// (ALTER DEFAULT PRIVILEGES for itself needs no privilege), and one query string
// may run thousands of commands: storing its whole text in each of their rows let a
// 1 MB string write 300 MB. The text is kept once per transaction's run of rows,
// cut at kStatementCap bytes; the other rows of the same string name that row
// (dbkit_drift reads the text through it), unless the text is short.
constexpr int kStatementCap = 64 * 1024;

constexpr int kInsertArgs = 9;

struct PendingRow {
	int level;  // transaction nesting level that recorded it
	TimestampTz at;
	const char *text[kInsertArgs - 1];  // event, command_tag, object_type, object_identity, schema_name,
	                                    // current_user_name, application_name, statement
};

List *g_pending = NIL;        // of PendingRow *, in TopTransactionContext
// The statement text is shared by the rows of one query string: a script of
// 10,000 DDL statements sent as one string is kept once, not 10,000 times.
const char *g_stmt_src = nullptr;  // debug_query_string it was copied from
size_t g_stmt_len = 0;
char *g_stmt_copy = nullptr;         // in TopTransactionContext
const char *g_stmt_kept = nullptr;   // what the rows keep of it: the copy, or a note in its place
bool g_stmt_withheld = false;
Oid g_writer = InvalidOid;    // the audit functions' owner: writes dbkit.ddl_audit at commit
bool g_callbacks = false;

// Retention (setting dbkit.audit_retention, minutes; 0 or -1: keep forever).
// Rows older than that are deleted by the commit-time write itself, at most once
// an hour per backend and at most kPurgeBatch rows at a time, so the audit stays
// bounded without a scheduler and a write never pays for a large backlog.
int g_retention_min = 90 * 24 * 60;
constexpr int kPurgeBatch = 5000;
constexpr int64 kPurgeEveryUs = INT64CONST(3600) * 1000000;
TimestampTz g_next_purge = 0;  // 0: this backend's first write purges

const char *kPurge =
    "DELETE FROM dbkit.ddl_audit WHERE ctid = ANY (ARRAY("
    "SELECT ctid FROM dbkit.ddl_audit WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED))";

char *keep(const char *s) { return s ? MemoryContextStrdup(TopTransactionContext, s) : nullptr; }

// The text of a statement that may hold a password is not kept (PostgreSQL hides a user
// mapping's options and a subscription's connection string from pg_monitor, who reads
// the audit): a note in its place, in every row of the query string, earlier ones too.
void withhold_statement(const char *why) {
	if (g_stmt_withheld || !g_stmt_kept)
		return;
	const char *note =
	    MemoryContextStrdup(TopTransactionContext,
	                        psprintf("-- [dbkit: the statement's text is not kept: %s (dbkit.ddl_audit is readable by "
	                                 "pg_monitor and deployers)]",
	                                 why));
	ListCell *lc;
	foreach (lc, g_pending) {
		PendingRow *row = static_cast<PendingRow *>(lfirst(lc));
		if (row->text[kInsertArgs - 2] == g_stmt_kept)
			row->text[kInsertArgs - 2] = note;
	}
	g_stmt_kept = note;
	g_stmt_withheld = true;
}

const char *statement_copy() {
	const char *src = debug_query_string;  // what current_query() returns
	if (!src)
		return nullptr;
	size_t len = strlen(src);
	if (!g_stmt_copy || src != g_stmt_src || len != g_stmt_len || memcmp(src, g_stmt_copy, len) != 0) {
		g_stmt_copy = MemoryContextStrdup(TopTransactionContext, src);
		g_stmt_src = src;
		g_stmt_len = len;
		g_stmt_kept = g_stmt_copy;
		g_stmt_withheld = false;
		if (dbkit::core::may_hold_password(std::string_view(src, len)))
			withhold_statement("it may hold a password");
	}
	return g_stmt_kept;
}

void pend(TimestampTz at, const char *event, const char *cmd, const char *type, const char *identity,
          const char *schema, const char *user, const char *app, const char *stmt) {
	PendingRow *row = static_cast<PendingRow *>(MemoryContextAllocZero(TopTransactionContext, sizeof(PendingRow)));
	row->level = GetCurrentTransactionNestLevel();
	row->at = at;
	row->text[0] = keep(event);
	row->text[1] = keep(cmd);
	row->text[2] = keep(type);
	row->text[3] = keep(identity);
	row->text[4] = keep(schema);
	row->text[5] = keep(user);
	row->text[6] = keep(app);
	row->text[7] = stmt;  // shared, see statement_copy()
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	g_pending = lappend(g_pending, row);
	MemoryContextSwitchTo(old);
}

// A GRANT/REVOKE: one row per object it named (so a drift row on one of them finds
// its entry), dbkit's own left out as for other commands; false when it names none.
bool pend_grant(HeapTuple tup, TupleDesc desc, TimestampTz at, const char *event, const char *cmd,
                const char *user, const char *app, const char *stmt) {
	bool isnull;
	Datum command = SPI_getbinval(tup, desc, 5, &isnull);
	Oid classid;
	List *objects = isnull ? NIL : dbkit_grant_objects(command, &classid);
	if (isnull || !OidIsValid(classid))
		return false;
	char *type = SPI_getvalue(tup, desc, 2);
	Oid dbkit_ns = get_namespace_oid("dbkit", true);
	ListCell *lc;
	foreach (lc, objects) {  // each exists (dbkit_grant_objects checked)
		ObjectAddress address = {classid, lfirst_oid(lc), 0};
		Oid ns = get_object_namespace(&address);
		if (OidIsValid(ns) && ns == dbkit_ns)
			continue;
		char *identity = dbkit::compat::object_identity(&address);
		if (identity)
			pend(at, event, cmd, type, identity, OidIsValid(ns) ? get_namespace_name(ns) : nullptr, user, app, stmt);
	}
	return true;
}

void capture(const char *select, const char *event, const char *tag, const char *user, const char *app) {
	const char *stmt = statement_copy();
	TimestampTz now = GetCurrentTimestamp();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(select, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dbkit audit: reading the event's objects failed");
	for (uint64 i = 0; i < SPI_processed; ++i) {
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		char *cmd = SPI_getvalue(tup, desc, 1);
		char *identity = SPI_getvalue(tup, desc, 3);
		if (stmt && dbkit::core::secret_bearing_command(cmd ? cmd : tag)) {
			withhold_statement(psprintf("%s options may hold a password", cmd ? cmd : tag));
			stmt = g_stmt_kept;
		}
		if (!identity && select == kSelectDdl && pend_grant(tup, desc, now, event, cmd ? cmd : tag, user, app, stmt))
			continue;
		pend(now, event, cmd ? cmd : tag, SPI_getvalue(tup, desc, 2), identity, SPI_getvalue(tup, desc, 4), user, app,
		     stmt);
	}
	SPI_finish();
}

// Deletes audit rows older than dbkit.audit_retention, in a subtransaction of
// its own: whatever goes wrong here (a serialization failure under REPEATABLE
// READ, say) leaves the rows just written in place. Runs inside flush()'s
// subtransaction, as the writer, with SPI connected.
void purge_expired(TimestampTz now) {
	if (g_retention_min <= 0 || now < g_next_purge)
		return;
	g_next_purge = now + kPurgeEveryUs;
	TimestampTz cutoff = now - static_cast<int64>(g_retention_min) * INT64CONST(60000000);
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		Oid types[2] = {TIMESTAMPTZOID, INT4OID};
		Datum values[2] = {TimestampTzGetDatum(cutoff), Int32GetDatum(kPurgeBatch)};
		int rc = SPI_execute_with_args(kPurge, 2, types, values, NULL, false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "audit retention: %s", SPI_result_code_string(rc));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		ErrorData *edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		ereport(LOG, (errmsg("dbkit could not delete expired rows of dbkit.ddl_audit: %s", edata->message),
		              errhint("The next write tries again in an hour; SELECT dbkit_purge_audit('90 days') "
		                      "deletes them by hand.")));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}

// Writes the pending rows in one subtransaction, as the audit functions' owner.
void flush() {
	List *rows = g_pending;
	g_pending = NIL;  // whatever happens below, they are written at most once
	bool dirty = dbkit_touched_has_outside();
	// DROP EXTENSION dbkit in this transaction took dbkit.ddl_audit with it
	if ((rows == NIL && !dirty) || !OidIsValid(g_writer) || !OidIsValid(get_extension_oid("dbkit", true))) {
		dbkit_touched_reset();
		return;
	}
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid save_uid;
	int save_sec;
	GetUserIdAndSecContext(&save_uid, &save_sec);
	// SET TRANSACTION READ ONLY after the DDL must not keep it out of the audit
	bool save_read_only = XactReadOnly;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		SetUserIdAndSecContext(g_writer, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
		XactReadOnly = false;
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
		// the statement's text datum is built once per distinct statement; the
		// other small values in a context reset for each row
		MemoryContext per_row =
		    AllocSetContextCreate(CurrentMemoryContext, "dbkit audit row", ALLOCSET_SMALL_SIZES);
		const char *stmt_src = nullptr;
		Datum stmt_datum = (Datum)0;
		Datum ref_datum = (Datum)0;  // "(the statement of ... row N)" once row N is written
		bool stmt_long = false;
		ListCell *lc;
		foreach (lc, rows) {
			PendingRow *row = static_cast<PendingRow *>(lfirst(lc));
			const char *stmt = row->text[kInsertArgs - 2];
			if (stmt && stmt != stmt_src) {
				if (stmt_src)
					pfree(DatumGetPointer(stmt_datum));
				if (ref_datum)
					pfree(DatumGetPointer(ref_datum));
				ref_datum = (Datum)0;
				int len = static_cast<int>(strlen(stmt));
				stmt_long = static_cast<unsigned>(len) > dbkit::kAuditRepeatInline;
				if (len <= kStatementCap) {
					stmt_datum = CStringGetTextDatum(stmt);
				} else {
					int cut = pg_mbcliplen(stmt, len, kStatementCap);
					char *text = psprintf("%.*s\n-- [dbkit: the statement is cut here, at %d of its %d bytes]", cut,
					                      stmt, cut, len);
					stmt_datum = CStringGetTextDatum(text);
					pfree(text);
				}
				stmt_src = stmt;
			}
			bool as_ref = stmt && stmt_long && ref_datum;
			MemoryContext outer = MemoryContextSwitchTo(per_row);
			Datum values[kInsertArgs];
			char nulls[kInsertArgs];
			values[0] = TimestampTzGetDatum(row->at);
			nulls[0] = ' ';
			for (int k = 1; k < kInsertArgs - 1; ++k) {
				const char *t = row->text[k - 1];
				values[k] = t ? CStringGetTextDatum(t) : (Datum)0;
				nulls[k] = t ? ' ' : 'n';
			}
			values[kInsertArgs - 1] = !stmt ? (Datum)0 : as_ref ? ref_datum : stmt_datum;
			nulls[kInsertArgs - 1] = stmt ? ' ' : 'n';
			int rc = SPI_execute_plan(plan, values, nulls, false, 0);
			if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
				elog(ERROR, "audit insert failed: %s", SPI_result_code_string(rc));
			if (stmt && stmt_long && !ref_datum) {
				bool isnull;
				int64 id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
				MemoryContextSwitchTo(outer);
				ref_datum = CStringGetTextDatum(psprintf(DBKIT_AUDIT_STATEMENT_REF, id));
			}
			MemoryContextSwitchTo(outer);
			MemoryContextReset(per_row);
		}
		dbkit_touched_write_outside();  // the drift flag (dbkit.dirty_objects)
		dbkit_touched_reset();
		if (rows != NIL)
			purge_expired(GetCurrentTimestamp());
		SPI_finish();
		AtEOXact_GUC(true, guc_level);
		PopActiveSnapshot();
		SetUserIdAndSecContext(save_uid, save_sec);
		XactReadOnly = save_read_only;
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
		XactReadOnly = save_read_only;
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		// A cancel (pg_cancel_backend while COMMIT writes) must not be a way to
		// commit DDL unaudited: the commit fails instead, as cancelled.
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
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
		dbkit_touched_reset();
		g_stmt_copy = nullptr;
		g_stmt_src = nullptr;
		g_stmt_kept = nullptr;
		g_stmt_withheld = false;
		break;
	default:
		break;
	}
}

// A rolled-back subtransaction's DDL did not happen; a committed one's now
// belongs to its parent. Rows are appended in order and a subtransaction's rows
// are always the list's tail (levels never decrease along it), so only the tail
// is touched: no walk of the whole list at every savepoint.
void at_subxact(SubXactEvent event, SubTransactionId, SubTransactionId, void *) {
	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	int level = GetCurrentTransactionNestLevel();
	dbkit_touched_subxact(event == SUBXACT_EVENT_ABORT_SUB, level);
	if (g_pending == NIL)
		return;
	int n = list_length(g_pending);
	int first = n;  // index of the first row of this subtransaction (or deeper)
	while (first > 0 && static_cast<PendingRow *>(list_nth(g_pending, first - 1))->level >= level)
		--first;
	if (first == n)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB) {
		g_pending = list_truncate(g_pending, first);
		return;
	}
	for (int i = first; i < n; ++i)
		static_cast<PendingRow *>(list_nth(g_pending, i))->level = level - 1;
}

Datum audit(FunctionCallInfo fcinfo, const char *select, const char *event) noexcept {
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
		                errmsg("dbkit audit functions run only as event triggers")));
	if (creating_extension)
		PG_RETURN_NULL();
	EventTriggerData *trig = reinterpret_cast<EventTriggerData *>(fcinfo->context);
	// A temporary table (CREATE TEMP TABLE, often one per request) is never schema
	// drift: skipped here without a query; kSelectDdl drops the other pg_temp objects.
	if (trig->parsetree && IsA(trig->parsetree, CreateStmt) &&
	    castNode(CreateStmt, trig->parsetree)->relation->relpersistence == RELPERSISTENCE_TEMP)
		PG_RETURN_NULL();
	if (!g_callbacks) {
		RegisterXactCallback(at_xact, NULL);
		RegisterSubXactCallback(at_subxact, NULL);
		g_callbacks = true;
	}
	g_writer = GetUserId();  // SECURITY DEFINER: the functions' owner
	// What the statement touched, for the references and the drift flag: dbkit's own
	// runs too, and whatever dbkit.audit says (the flag is not the audit).
	dbkit_touched_capture(trig, select == kSelectDrop, dbkit::in_run());
	if (!dbkit::audit_enabled() || dbkit::in_run())
		PG_RETURN_NULL();
	// pg_restore replays a dump's DDL, which is not a change to the schema (and the
	// dump carries the audit rows it had). application_name is the client's to set,
	// so it is believed only from a superuser session, which could SET dbkit.audit =
	// off anyway; any other role running as "pg_restore" is audited as usual.
	const char *app = GetConfigOption("application_name", true, false);
	if (app && strcmp(app, "pg_restore") == 0 && superuser_arg(GetSessionUserId()))
		PG_RETURN_NULL();
	// The role that ran the DDL is the outer one.
	const char *user = GetUserNameFromId(GetOuterUserId(), true);
	capture(select, event, GetCommandTagName(trig->tag), user ? user : "", app);
	PG_RETURN_NULL();
}

}  // namespace

void dbkit::define_audit_settings() {
	DefineCustomIntVariable("dbkit.audit_retention",
	                        "How long dbkit.ddl_audit keeps its rows (0 or -1: forever).",
	                        "Older rows are deleted by the audit's own writes, at most once an hour per session and "
	                        "5,000 rows at a time. Only superusers can change it.",
	                        &g_retention_min, 90 * 24 * 60, -1, INT_MAX, PGC_SUSET, GUC_UNIT_MIN, NULL, NULL, NULL);
}

void dbkit::flush_pending_audit() {
	// Only at the top level: written inside a savepoint, the rows of DDL from
	// outside it would be lost if that savepoint rolled back.
	if (g_pending != NIL && GetCurrentTransactionNestLevel() == 1)
		dbkit::PgCall([]() noexcept { flush(); });
}

// No C++ objects with destructors here: these bodies are plain C-style calls.
extern "C" {
PG_FUNCTION_INFO_V1(dbkit_audit_ddl);
PG_FUNCTION_INFO_V1(dbkit_audit_drop);
Datum dbkit_audit_ddl(PG_FUNCTION_ARGS) { return audit(fcinfo, kSelectDdl, "ddl_command_end"); }
Datum dbkit_audit_drop(PG_FUNCTION_ARGS) { return audit(fcinfo, kSelectDrop, "sql_drop"); }
}
