// Event triggers: record DDL run outside dbkit's own runs in dbkit.ddl_audit.
// Their bookkeeping must never make the user's DDL fail: the insert runs in an
// internal subtransaction, and a failure becomes a WARNING.
#include "guard.hpp"
#include "run_state.hpp"

namespace {

const char *kInsertDdl =
    "INSERT INTO dbkit.ddl_audit (event, command_tag, object_type, object_identity, schema_name, "
    "application_name, client_addr, backend_pid, statement, current_user_name) "
    "SELECT 'ddl_command_end', c.command_tag, c.object_type, c.object_identity, c.schema_name, "
    "pg_catalog.current_setting('application_name'), pg_catalog.inet_client_addr(), pg_catalog.pg_backend_pid(), "
    "pg_catalog.current_query(), $2 FROM pg_catalog.pg_event_trigger_ddl_commands() c "
    "WHERE c.schema_name IS DISTINCT FROM 'dbkit' AND NOT c.in_extension AND $1 IS NOT NULL";

// sql_drop rows take the command tag from the event ($1).
const char *kInsertDrop =
    "INSERT INTO dbkit.ddl_audit (event, command_tag, object_type, object_identity, schema_name, "
    "application_name, client_addr, backend_pid, statement, current_user_name) "
    "SELECT 'sql_drop', $1, d.object_type, d.object_identity, d.schema_name, "
    "pg_catalog.current_setting('application_name'), pg_catalog.inet_client_addr(), pg_catalog.pg_backend_pid(), "
    "pg_catalog.current_query(), $2 FROM pg_catalog.pg_event_trigger_dropped_objects() d "
    "WHERE d.schema_name IS DISTINCT FROM 'dbkit' AND NOT d.is_temporary";

// C-style on purpose: no C++ object lives across the longjmp-protected region.
void record(const char *sql, const char *tag, const char *user) noexcept {
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		Oid types[2] = {TEXTOID, TEXTOID};
		Datum values[2] = {CStringGetTextDatum(tag), CStringGetTextDatum(user)};
		int rc = SPI_execute_with_args(sql, 2, types, values, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "audit insert failed: %s", SPI_result_code_string(rc));
		SPI_finish();
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
		ereport(WARNING, (errmsg("dbkit could not record this DDL in dbkit.ddl_audit: %s", edata->message),
		                  errhint("The DDL itself succeeded. Check dbkit's installation, or SET dbkit.audit = off.")));
	}
	PG_END_TRY();
}

Datum audit(FunctionCallInfo fcinfo, const char *sql) noexcept {
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
	EventTriggerData *trig = reinterpret_cast<EventTriggerData *>(fcinfo->context);
	// The audit function is SECURITY DEFINER: the role that ran the DDL is the outer one.
	const char *user = GetUserNameFromId(GetOuterUserId(), true);
	record(sql, GetCommandTagName(trig->tag), user ? user : "");
	PG_RETURN_NULL();
}

}  // namespace

// No C++ objects with destructors here: these bodies are plain C-style calls.
extern "C" {
PG_FUNCTION_INFO_V1(dbkit_audit_ddl);
PG_FUNCTION_INFO_V1(dbkit_audit_drop);
Datum dbkit_audit_ddl(PG_FUNCTION_ARGS) { return audit(fcinfo, kInsertDdl); }
Datum dbkit_audit_drop(PG_FUNCTION_ARGS) { return audit(fcinfo, kInsertDrop); }
}
