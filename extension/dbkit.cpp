// Module entry: magic block, settings, and the run flag reset at transaction end.
#include <string>
#include <vector>

#include "audit.hpp"
#include "guard.hpp"
#include "run_state.hpp"
#include "shadow.hpp"
#include "settle_worker.hpp"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace {
bool g_in_run = false;
std::vector<std::string> g_session_statements;  // handed out by dbkit_nontx_start
bool g_audit = true;

void at_xact_end(XactEvent event, void *) {
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_COMMIT ||
	    event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
		g_in_run = false;
}
}  // namespace

namespace dbkit {
// No allocation: called from the audit trigger, which must not throw.
bool in_run() {
	if (g_in_run)
		return true;
	const char *q = debug_query_string;
	if (!q || g_session_statements.empty())
		return false;
	size_t len = strlen(q);
	for (const auto &s : g_session_statements)
		if (s.size() == len && memcmp(s.data(), q, len) == 0)
			return true;
	return false;
}
void set_session_statements(std::vector<std::string> stmts) { g_session_statements = std::move(stmts); }
void add_session_statement(const std::string &stmt) { g_session_statements.push_back(stmt); }
void clear_session_statements() { g_session_statements.clear(); }
bool is_session_statement(const std::string &stmt) {
	for (const auto &s : g_session_statements)
		if (s == stmt)
			return true;
	return false;
}
bool audit_enabled() { return g_audit; }
RunScope::RunScope() { g_in_run = true; }
RunScope::~RunScope() { g_in_run = false; }
}  // namespace dbkit

extern "C" void _PG_init(void) {
	DefineCustomBoolVariable("dbkit.audit",
	                         "Record DDL run outside dbkit migrations in dbkit.ddl_audit.",
	                         "Only superusers can change it, so that a role cannot hide its own DDL.", &g_audit, true,
	                         PGC_SUSET, 0, NULL, NULL, NULL);
	dbkit::define_audit_settings();
	dbkit::define_settle_settings();
	dbkit::define_shadow_settings();
	dbkit::compat::reserve_guc_prefix("dbkit");
	RegisterXactCallback(at_xact_end, NULL);
}
