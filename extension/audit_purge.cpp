// dbkit_purge_audit(older_than interval): delete DDL audit rows by hand. The
// setting dbkit.audit_retention does the same as the audit writes (audit.cpp).
// Not SECURITY DEFINER: the caller needs DELETE on dbkit.ddl_audit (dbkit's
// owner, a deploying role); a monitoring role cannot erase the audit.
#include <fmt/format.h>

#include "core/json.hpp"
#include "errcodes.hpp"
#include "history.hpp"
#include "spi.hpp"

using namespace dbkit;

DBKIT_FUNCTION(dbkit_purge_audit) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "dbkit_purge_audit: older_than is null",
		            "Say how old the rows to delete must be, for example SELECT dbkit_purge_audit('90 days');");
	Datum older_than = PG_GETARG_DATUM(0);
	spi::connect();
	spi::execute(
	    "SELECT pg_catalog.has_table_privilege('dbkit.ddl_audit', 'DELETE'), $1 < '0'::interval, $1::text, "
	    "current_user::text",
	    {spi::Arg{INTERVALOID, older_than, false}});
	std::string shown = *spi::get_text(0, 3), who = *spi::get_text(0, 4);
	if (spi::get_text(0, 1) != std::optional<std::string>("t"))
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("dbkit_purge_audit: role {} may not delete from dbkit.ddl_audit", who),
		            "Run it as dbkit's owner or a deploying role (one with DELETE on dbkit.ddl_audit).");
	if (spi::get_text(0, 2) == std::optional<std::string>("t"))
		throw Error(ERRCODE_INVALID_PARAMETER_VALUE,
		            fmt::format("dbkit_purge_audit: older_than is negative ({})", shown),
		            "Give a positive interval, for example '90 days'; '0' deletes every row.");
	spi::execute(
	    "WITH gone AS (DELETE FROM dbkit.ddl_audit WHERE at < pg_catalog.now() - $1 RETURNING 1) "
	    "SELECT count(*) FROM gone",
	    {spi::Arg{INTERVALOID, older_than, false}});
	int64_t n = spi::get_int64(0, 1).value_or(0);
	HistoryWriter w("purge-audit", {}, {},
	                fmt::format("{{\"older_than\": {}, \"rows\": {}}}", core::json_quote(shown), n));
	spi::finish();
	PG_RETURN_INT64(n);
}
