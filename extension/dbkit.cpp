// Module entry: magic block, settings, and the run flag reset at transaction end.
#include "guard.hpp"
#include "run_state.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace {
bool g_in_run = false;
bool g_session_run = false;
bool g_audit = true;

void at_xact_end(XactEvent event, void *) {
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
	    event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
		g_in_run = false;
}
}  // namespace

namespace dbkit {
bool in_run() { return g_in_run || g_session_run; }
void set_session_run(bool on) { g_session_run = on; }
bool audit_enabled() { return g_audit; }
RunScope::RunScope() { g_in_run = true; }
RunScope::~RunScope() { g_in_run = false; }
}  // namespace dbkit

extern "C" void _PG_init(void) {
	DefineCustomBoolVariable("dbkit.audit",
	                         "Record DDL run outside dbkit migrations in dbkit.ddl_audit.",
	                         "Only superusers can change it, so that a role cannot hide its own DDL.", &g_audit, true,
	                         PGC_SUSET, 0, NULL, NULL, NULL);
	dbkit::compat::reserve_guc_prefix("dbkit");
	RegisterXactCallback(at_xact_end, NULL);
}
