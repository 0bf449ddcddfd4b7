// The objects a transaction's DDL touched (touched.hpp). C-style like audit.cpp:
// these run inside event triggers and commit callbacks, with no C++ object alive
// across a PostgreSQL call that may raise.
#include <string>

#include "guard.hpp"
#include "spi.hpp"
#include "touched.hpp"  // after pg.hpp (guard.hpp): it declares with PostgreSQL's types

namespace {

struct Entry {
	int level;     // transaction nesting level that recorded it
	bool in_run;   // dbkit's own statement
	Oid classid;   // InvalidOid: a command that names no object
	Oid objid;
};

List *g_entries = NIL;  // of Entry *, in TopTransactionContext
// A statement of a run ran while event triggers do not fire (session_replication_role =
// replica): what it changed is in no entry, so only a full read is safe this transaction.
bool g_blind = false;

// classid/objid of what the command created or altered; NULL objid: GRANT,
// ALTER DEFAULT PRIVILEGES, ... (no object identity reported). The command
// itself (a pg_ddl_command, a pointer valid while the trigger runs) tells a
// GRANT's objects.
const char *kDdl =
    "SELECT c.classid, c.objid, c.command FROM pg_catalog.pg_event_trigger_ddl_commands() c "
    "WHERE c.schema_name IS DISTINCT FROM 'pg_temp'";
// What was dropped, and the survivor whose entry it was part of (found by name:
// its own catalog row is gone): the table of a default, the publication of a
// publication's table, the domain of a domain constraint.
const char *kDrop =
    "SELECT d.classid, d.objid, CASE d.object_type "
    "  WHEN 'default value' THEN (SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
    "       ON n.oid = c.relnamespace WHERE n.nspname = d.address_names[1] AND c.relname = d.address_names[2]) "
    "  WHEN 'publication relation' THEN (SELECT p.oid FROM pg_catalog.pg_publication p WHERE p.pubname = d.address_args[1]) "
    "  WHEN 'publication namespace' THEN (SELECT p.oid FROM pg_catalog.pg_publication p WHERE p.pubname = d.address_args[1]) "
    "  WHEN 'domain constraint' THEN pg_catalog.to_regtype(d.address_names[1])::pg_catalog.oid END "
    "FROM pg_catalog.pg_event_trigger_dropped_objects() d WHERE NOT d.is_temporary";

void add(bool in_run, Oid classid, Oid objid) {
	// a command repeated in a loop names the same object again: one row for it
	if (g_entries != NIL) {
		const Entry *last = static_cast<const Entry *>(llast(g_entries));
		if (last->level == GetCurrentTransactionNestLevel() && last->in_run == in_run && last->classid == classid &&
		    last->objid == objid)
			return;
	}
	Entry *e = static_cast<Entry *>(MemoryContextAllocZero(TopTransactionContext, sizeof(Entry)));
	e->level = GetCurrentTransactionNestLevel();
	e->in_run = in_run;
	e->classid = classid;
	e->objid = objid;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	g_entries = lappend(g_entries, e);
	MemoryContextSwitchTo(old);
}

Oid oid_at(HeapTuple tup, TupleDesc desc, int col, bool *isnull) {
	Datum d = SPI_getbinval(tup, desc, col, isnull);
	return *isnull ? InvalidOid : DatumGetObjectId(d);
}

// The catalog of a GRANT's or REVOKE's objects, for the kinds a snapshot holds
// privileges of, and the syscache that tells whether one still exists
// (get_object_namespace and getObjectIdentity raise for one that does not). The rest
// (databases, languages, servers, ...) have no entry: they stay a full read.
struct GrantKind {
	Oid classid = InvalidOid;
	int cache = -1;
};

GrantKind grant_kind(ObjectType type) {
	switch (type) {
	case OBJECT_TABLE:  // views, sequences, foreign tables too
	case OBJECT_SEQUENCE:
		return {RelationRelationId, RELOID};
	case OBJECT_FUNCTION:
	case OBJECT_PROCEDURE:
	case OBJECT_ROUTINE:
		return {ProcedureRelationId, PROCOID};
	case OBJECT_SCHEMA:
		return {NamespaceRelationId, NAMESPACEOID};
	case OBJECT_TYPE:
	case OBJECT_DOMAIN:
		return {TypeRelationId, TYPEOID};
	default:
		return {};
	}
}

bool add_grant_objects(Datum command, bool in_run) {
	Oid classid;
	List *objects = dbkit_grant_objects(command, &classid);
	if (!OidIsValid(classid))
		return false;
	ListCell *lc;
	foreach (lc, objects)
		add(in_run, classid, lfirst_oid(lc));
	return true;
}

// ATTACH/DETACH PARTITION report only the parent; the partition's own entry
// (partition_of, partition_bound) changes too.
void partitions_of(Node *parsetree, bool in_run) {
	if (!parsetree || !IsA(parsetree, AlterTableStmt))
		return;
	ListCell *lc;
	foreach (lc, castNode(AlterTableStmt, parsetree)->cmds) {
		AlterTableCmd *cmd = static_cast<AlterTableCmd *>(lfirst(lc));
		if ((cmd->subtype == AT_AttachPartition || cmd->subtype == AT_DetachPartition ||
		     cmd->subtype == AT_DetachPartitionFinalize) && cmd->def && IsA(cmd->def, PartitionCmd)) {
			Oid rel = RangeVarGetRelid(castNode(PartitionCmd, cmd->def)->name, NoLock, true);
			add(in_run, OidIsValid(rel) ? RelationRelationId : InvalidOid, rel);
		}
	}
}

}  // namespace

// A GRANT/REVOKE reports no object, but its collected command holds the oids it
// resolved (ON ALL TABLES IN SCHEMA expanded): those objects' entries are what it
// changed.
List *dbkit_grant_objects(Datum command, Oid *classid) {
	auto *cmd = reinterpret_cast<CollectedCommand *>(DatumGetPointer(command));
	*classid = InvalidOid;
	if (!cmd || cmd->type != SCT_Grant || !cmd->d.grant.istmt)
		return NIL;
	GrantKind kind = grant_kind(cmd->d.grant.istmt->objtype);
	*classid = kind.classid;
	if (!OidIsValid(kind.classid))
		return NIL;
	// Left out: objects gone by now (DROP OWNED revokes a role's privileges, then drops what
	// it owns, in one command: its sql_drop rows name those), and temporary objects, never
	// schema drift (as the event's pg_temp rows above).
	List *objects = NIL;
	ListCell *lc;
	foreach (lc, cmd->d.grant.istmt->objects) {
		Oid objid = lfirst_oid(lc);
		if (!SearchSysCacheExists1(kind.cache, ObjectIdGetDatum(objid)))
			continue;
		ObjectAddress address = {*classid, objid, 0};
		Oid ns = get_object_namespace(&address);
		if (!OidIsValid(ns) || !isAnyTempNamespace(ns))
			objects = lappend_oid(objects, objid);
	}
	return objects;
}

// ALTER DEFAULT PRIVILEGES reports no object, and the pg_default_acl row it changed
// may be gone (granted back to the defaults): its entries are among the rows there
// now and the ones the reference holds. Naming them keeps the next read to them:
// any role may run it for itself, and a full read of a large schema at every poll
// was then one statement away.
const char *kDefaultAcls = "SELECT oid FROM pg_catalog.pg_default_acl";
const char *kReferenceDefaultAcls =
    "SELECT objid FROM dbkit.reference_objects WHERE pg_catalog.starts_with(key, 'default_privileges:') "
    "AND objid IS NOT NULL";

bool is_default_privileges(Datum command) {
	auto *cmd = reinterpret_cast<CollectedCommand *>(DatumGetPointer(command));
	return cmd && cmd->type == SCT_AlterDefaultPrivileges;
}

void add_default_acls(bool in_run) {
	// a database whose dbkit SQL objects are still 0.1.0 has no reference table
	bool reference = OidIsValid(get_relname_relid("reference_objects", get_namespace_oid("dbkit", true)));
	for (const char *query : {kDefaultAcls, kReferenceDefaultAcls}) {
		if (query == kReferenceDefaultAcls && !reference)
			continue;
		// not read-only: a fresh snapshot sees the row the command itself wrote
		if (SPI_execute(query, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "dbkit: reading default privileges failed");
		for (uint64 i = 0; i < SPI_processed; ++i) {
			bool isnull;
			Oid objid = oid_at(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
			if (!isnull)
				add(in_run, DefaultAclRelationId, objid);
		}
	}
}

void dbkit_touched_capture(EventTriggerData *trig, bool drop, bool in_run) {
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(drop ? kDrop : kDdl, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dbkit: reading the event's objects failed");
	uint64 n = SPI_processed;
	bool default_acls = false;
	for (uint64 i = 0; i < n; ++i) {
		HeapTuple tup = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		bool null_class, null_obj, null_owner = true;
		Oid classid = oid_at(tup, desc, 1, &null_class);
		Oid objid = oid_at(tup, desc, 2, &null_obj);
		bool null_cmd = true;
		Datum command = drop ? Datum(0) : SPI_getbinval(tup, desc, 3, &null_cmd);
		if (null_obj && !null_cmd && is_default_privileges(command))
			default_acls = true;  // read below: a query here would replace SPI_tuptable
		else if (!null_obj || null_cmd || !add_grant_objects(command, in_run))
			add(in_run, null_obj ? InvalidOid : classid, objid);
		if (drop) {
			Oid owner = oid_at(tup, desc, 3, &null_owner);
			if (!null_owner)
				add(in_run, RelationRelationId, owner);  // the classid only says "an object"
		}
	}
	if (default_acls)
		add_default_acls(in_run);
	SPI_finish();
	// A command that reports no object (ALTER PUBLICATION ... DROP TABLE, a CREATE ...
	// IF NOT EXISTS that did nothing): nothing tells what it changed, so only a full read
	// is safe. DROP reports through sql_drop. (REASSIGN OWNED fires no event trigger at
	// all: the guard's owner samples see it.)
	const char *tag = GetCommandTagName(trig->tag);
	if (!drop && n == 0 && strncmp(tag, "DROP ", 5) != 0)
		add(in_run, InvalidOid, InvalidOid);
	if (!drop && strcmp(tag, "ALTER EXTENSION") == 0)
		add(in_run, InvalidOid, InvalidOid);  // ADD/DROP of a member shows or hides it
	if (!drop)
		partitions_of(trig->parsetree, in_run);
}

bool dbkit_touched_has_outside() { return g_entries != NIL; }

// With SPI connected, as the audit's writer: what no reference took in (DDL
// outside dbkit, and statements of a run that stored no reference in this
// transaction, such as a non-transactional migration's).
void dbkit_touched_write_outside() {
	if (g_entries == NIL)
		return;
	// a database whose dbkit SQL objects are still 0.1.0 (before ALTER EXTENSION UPDATE) has no such table;
	// planned once per backend (a non-transactional run commits after every statement)
	static SPIPlanPtr exists_plan = nullptr;
	if (!exists_plan) {
		SPIPlanPtr p = SPI_prepare("SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
		                           "ON n.oid = c.relnamespace WHERE n.nspname = 'dbkit' AND c.relname = 'dirty_objects'",
		                           0, nullptr);
		if (!p || SPI_keepplan(p) != 0)
			elog(ERROR, "dirty objects: %s", SPI_result_code_string(SPI_result));
		exists_plan = p;
	}
	if (SPI_execute_plan(exists_plan, nullptr, nullptr, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "dirty objects: lookup failed");
	if (SPI_processed == 0)
		return;
	Oid types[3] = {OIDOID, OIDOID, BOOLOID};
	SPIPlanPtr plan = nullptr;
	ListCell *lc;
	foreach (lc, g_entries) {
		Entry *e = static_cast<Entry *>(lfirst(lc));
		if (!plan && !(plan = SPI_prepare("INSERT INTO dbkit.dirty_objects (classid, objid, by_dbkit) VALUES ($1, $2, $3)",
		                                  3, types)))
			elog(ERROR, "dirty objects: %s", SPI_result_code_string(SPI_result));
		Datum values[3] = {ObjectIdGetDatum(e->classid), ObjectIdGetDatum(e->objid), BoolGetDatum(e->in_run)};
		if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "dirty objects: insert failed");
	}
}

// Same tail walk as the audit's rows (levels never decrease along the list).
void dbkit_touched_subxact(bool abort, int level) {
	int n = list_length(g_entries);
	int first = n;
	while (first > 0 && static_cast<Entry *>(list_nth(g_entries, first - 1))->level >= level)
		--first;
	if (first == n)
		return;
	if (abort) {
		g_entries = list_truncate(g_entries, first);
		return;
	}
	for (int i = first; i < n; ++i)
		static_cast<Entry *>(list_nth(g_entries, i))->level = level - 1;
}

void dbkit_touched_reset() {
	g_entries = NIL;
	g_blind = false;
}

namespace dbkit {

void touched_blind() { g_blind = true; }

Touched touched_by_runs() {
	Touched t;
	t.unknown = g_blind;
	std::string oids = "{", classids = "{";
	ListCell *lc;
	foreach (lc, g_entries) {
		Entry *e = static_cast<Entry *>(lfirst(lc));
		if (!e->in_run) {
			t.outside = true;
			continue;
		}
		if (!OidIsValid(e->classid) || !OidIsValid(e->objid)) {
			t.unknown = true;
			continue;
		}
		if (oids.size() > 1) {
			oids += ',';
			classids += ',';
		}
		oids += std::to_string(e->objid);
		classids += std::to_string(e->classid);
	}
	t.oids = oids + "}";
	t.classids = classids + "}";
	return t;
}

bool touched_outside_pending() {
	ListCell *lc;
	foreach (lc, g_entries)
		if (!static_cast<Entry *>(lfirst(lc))->in_run)
			return true;
	return false;
}

void touched_taken_in() {
	List *kept = NIL;
	ListCell *lc;
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	foreach (lc, g_entries)
		if (!static_cast<Entry *>(lfirst(lc))->in_run)
			kept = lappend(kept, lfirst(lc));
	MemoryContextSwitchTo(old);
	g_entries = kept;
}

}  // namespace dbkit
