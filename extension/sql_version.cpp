#include "sql_version.hpp"

#include "spi.hpp"

#include <fmt/format.h>

#include <cstring>
#include <string>

#include "guard.hpp"

namespace dbkit {

namespace {
// extversion of dbkit from pg_extension, palloc'd, or NULL when not installed.
char *installed_version() noexcept {
	char *out = nullptr;
	Relation rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("dbkit"));
	SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
	HeapTuple tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup)) {
		bool isnull = true;
		Datum d = heap_getattr(tup, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
		if (!isnull)
			out = text_to_cstring(DatumGetTextPP(d));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return out;
}
}  // namespace

Oid extension_namespace() noexcept {
	Oid out = InvalidOid;
	Relation rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("dbkit"));
	SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
	HeapTuple tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		out = reinterpret_cast<Form_pg_extension>(GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return out;
}

void require_sql_version(const char *function) {
	if (creating_extension)
		return;  // dbkit's own install or update script
	const char *v = PgCall([]() noexcept { return installed_version(); });
	if (!v || std::strcmp(v, kLibraryVersion) == 0)
		return;
	throw Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
	            fmt::format("{}: the dbkit library is version {}, but the extension's SQL objects in this database are "
	                        "version {}",
	                        function, kLibraryVersion, v),
	            "Update them once, as a superuser: ALTER EXTENSION dbkit UPDATE (or dbkit init). History, snapshots "
	            "and the audit are kept.");
}

std::string extension_schema() {
	const char *n = PgCall([]() noexcept -> const char * {
		Oid nsp = extension_namespace();
		return OidIsValid(nsp) ? get_namespace_name(nsp) : nullptr;
	});
	return n ? spi::sql_ident(n) : std::string("public");
}

}  // namespace dbkit
