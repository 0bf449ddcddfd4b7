// dbkit_snapshot(full): the live schema as dbkit.snapshot() describes it. full =>
// true reads every catalog (what the tests compare against); full => false takes the
// newest reference and re-reads only the objects DDL outside dbkit touched since
// (dbkit.dirty_objects, docs/design.md "Incremental references"), and reads
// everything when that cannot be known to be equal.
#include "guard.hpp"
#include "reference_store.hpp"
#include "schema_engine.hpp"
#include "spi.hpp"

using namespace dbkit;

DBKIT_FUNCTION(dbkit_snapshot_read) {
	bool full = PG_ARGISNULL(0) || PG_GETARG_BOOL(0);
	spi::connect();
	std::optional<std::string> snap;
	if (!full)
		if (auto set = drift_basis().dirty)
			snap = dirty_snapshot(*set);
	if (!snap) {
		spi::execute("SELECT dbkit.snapshot()::pg_catalog.text");
		snap = spi::get_text(0, 1);
	}
	spi::finish();
	return jsonb_datum(*snap);
}

// dbkit._dirty_set(): the objects an incremental read re-reads now (oid[]), or NULL
// when only a full read can tell. For DBAs asking why a poll read the schema, and
// for the tests that prove the incremental path was taken.
DBKIT_FUNCTION(dbkit_dirty_set) {
	spi::connect();
	std::optional<std::string> set = drift_basis().dirty;
	spi::finish();
	if (!set)
		PG_RETURN_NULL();
	const char *p = set->c_str();
	return PgCall([&]() noexcept {
		return OidInputFunctionCall(F_ARRAY_IN, const_cast<char *>(p), OIDOID, -1);
	});
}
