// dbkit._expand_touched(oid[]): the objects whose reference entries a change to
// `touched` can alter. It was PL/pgSQL over the catalogs (two helpers, a dozen
// statements): a deploy runs it in a new backend, which planned all of them,
// ~10 ms of every deploy whatever it touched. Here every lookup goes through a
// catalog's oid index or a syscache, and nothing is planned.
//
// Plain C-style code: no C++ object with a destructor is alive across the
// PostgreSQL calls below, so an ERROR from them may longjmp through freely
// (conventions, "Exception boundary rule").
#include <cstdlib>

#include "pg.hpp"

namespace {

// A growing set of oids, palloc'd in the call's memory context.
struct OidSet {
	Oid *v;
	int n, cap;
};

void add(OidSet *s, Oid o) {
	if (!OidIsValid(o))
		return;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = s->v ? static_cast<Oid *>(repalloc(s->v, sizeof(Oid) * s->cap))
		            : static_cast<Oid *>(palloc(sizeof(Oid) * s->cap));
	}
	s->v[s->n++] = o;
}

int oid_cmp(const void *a, const void *b) {
	Oid x = *static_cast<const Oid *>(a), y = *static_cast<const Oid *>(b);
	return x < y ? -1 : x > y;
}

void make_unique(OidSet *s) {
	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(Oid), oid_cmp);
	int k = 1;
	for (int i = 1; i < s->n; ++i)
		if (s->v[i] != s->v[k - 1])
			s->v[k++] = s->v[i];
	s->n = k;
}

bool contains(const OidSet *sorted, Oid o) {
	return sorted->n && bsearch(&o, sorted->v, sorted->n, sizeof(Oid), oid_cmp) != nullptr;
}

// Each row of `catalog` whose column `attno` equals `value`, through `index` (whose first
// column that is) or a filtered heap scan (InvalidOid): `take` adds what the row names.
typedef void (*Take)(HeapTuple tup, TupleDesc desc, OidSet *out, Oid value);

void scan(Oid catalog, Oid index, AttrNumber attno, Oid value, Take take, OidSet *out) {
	ScanKeyData key;
	ScanKeyInit(&key, attno, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(value));
	Relation rel = table_open(catalog, AccessShareLock);
	SysScanDesc sd = systable_beginscan(rel, index, OidIsValid(index), nullptr, 1, &key);
	HeapTuple tup;
	while (HeapTupleIsValid(tup = systable_getnext(sd)))
		take(tup, RelationGetDescr(rel), out, value);
	systable_endscan(sd);
	table_close(rel, AccessShareLock);
}

// The value of one oid column of a row.
Oid column(HeapTuple tup, TupleDesc desc, AttrNumber attno) {
	bool isnull;
	Datum d = heap_getattr(tup, attno, desc, &isnull);
	return isnull ? InvalidOid : DatumGetObjectId(d);
}

#define TAKE_COLUMN(name, attno) \
	void name(HeapTuple tup, TupleDesc desc, OidSet *out, Oid) { add(out, column(tup, desc, attno)); }
TAKE_COLUMN(take_tgrelid, Anum_pg_trigger_tgrelid)
TAKE_COLUMN(take_polrelid, Anum_pg_policy_polrelid)
TAKE_COLUMN(take_ev_class, Anum_pg_rewrite_ev_class)
TAKE_COLUMN(take_adrelid, Anum_pg_attrdef_adrelid)
TAKE_COLUMN(take_class_oid, Anum_pg_class_oid)
TAKE_COLUMN(take_proc_oid, Anum_pg_proc_oid)
TAKE_COLUMN(take_type_oid, Anum_pg_type_oid)
TAKE_COLUMN(take_operator_oid, Anum_pg_operator_oid)
TAKE_COLUMN(take_default_acl_oid, Anum_pg_default_acl_oid)
TAKE_COLUMN(take_extension_oid, Anum_pg_extension_oid)
TAKE_COLUMN(take_pnpubid, Anum_pg_publication_namespace_pnpubid)
TAKE_COLUMN(take_inhrelid, Anum_pg_inherits_inhrelid)
TAKE_COLUMN(take_depender, Anum_pg_depend_objid)
#undef TAKE_COLUMN

// An identity column's sequence (ALTER SEQUENCE on it): its column's table.
void take_identity_table(HeapTuple tup, TupleDesc desc, OidSet *out, Oid objid) {
	auto *d = reinterpret_cast<Form_pg_depend>(GETSTRUCT(tup));
	if (d->refclassid == RelationRelationId && d->deptype == DEPENDENCY_INTERNAL &&
	    get_rel_relkind(objid) == RELKIND_SEQUENCE)
		add(out, d->refobjid);
}

// The oid `field` reads from the syscache `cache`'s row for `o`, if there is one.
template <typename Form, typename Field>
void from_cache(int cache, Oid o, OidSet *out, Field field) {
	HeapTuple t = SearchSysCache1(cache, ObjectIdGetDatum(o));
	if (!HeapTupleIsValid(t))
		return;
	add(out, field(reinterpret_cast<Form>(GETSTRUCT(t))));
	ReleaseSysCache(t);
}

// The tables (domains, publications) the objects are parts of, from the live catalogs.
void add_live_owners(Oid o, OidSet *out) {
	HeapTuple t;
	if (HeapTupleIsValid(t = SearchSysCache1(CONSTROID, ObjectIdGetDatum(o)))) {
		auto *c = reinterpret_cast<Form_pg_constraint>(GETSTRUCT(t));
		add(out, c->conrelid);
		add(out, c->contypid);
		ReleaseSysCache(t);
	}
	from_cache<Form_pg_index>(INDEXRELID, o, out, [](Form_pg_index i) { return i->indrelid; });
	from_cache<Form_pg_publication_rel>(PUBLICATIONREL, o, out, [](Form_pg_publication_rel r) { return r->prpubid; });
	from_cache<Form_pg_publication_namespace>(PUBLICATIONNAMESPACE, o, out,
	                                          [](Form_pg_publication_namespace n) { return n->pnpubid; });
	from_cache<Form_pg_type>(TYPEOID, o, out, [](Form_pg_type ty) { return ty->typrelid; });
	scan(TriggerRelationId, TriggerOidIndexId, Anum_pg_trigger_oid, o, take_tgrelid, out);
	scan(PolicyRelationId, PolicyOidIndexId, Anum_pg_policy_oid, o, take_polrelid, out);
	scan(RewriteRelationId, RewriteOidIndexId, Anum_pg_rewrite_oid, o, take_ev_class, out);
	scan(AttrDefaultRelationId, AttrDefaultOidIndexId, Anum_pg_attrdef_oid, o, take_adrelid, out);
	// pg_depend by depender: (classid, objid); the first key alone is not selective
	ScanKeyData keys[2];
	ScanKeyInit(&keys[0], Anum_pg_depend_classid, BTEqualStrategyNumber, F_OIDEQ,
	            ObjectIdGetDatum(RelationRelationId));
	ScanKeyInit(&keys[1], Anum_pg_depend_objid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(o));
	Relation rel = table_open(DependRelationId, AccessShareLock);
	SysScanDesc sd = systable_beginscan(rel, DependDependerIndexId, true, nullptr, 2, keys);
	HeapTuple tup;
	while (HeapTupleIsValid(tup = systable_getnext(sd)))
		take_identity_table(tup, RelationGetDescr(rel), out, o);
	systable_endscan(sd);
	table_close(rel, AccessShareLock);
}

Datum oid_array(const OidSet *s) {
	Datum *d = static_cast<Datum *>(palloc(sizeof(Datum) * (s->n ? s->n : 1)));
	for (int i = 0; i < s->n; ++i)
		d[i] = ObjectIdGetDatum(s->v[i]);
	return PointerGetDatum(construct_array(d, s->n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

// What was dropped is only in the stored reference: the table each entry was part of.
// One statement for the whole set, planned once per backend.
void add_reference_owners(const OidSet *objects, OidSet *out) {
	static SPIPlanPtr plan = nullptr;
	if (objects->n == 0)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "dbkit: SPI_connect failed");
	if (!plan) {
		Oid argtype = OIDARRAYOID;
		SPIPlanPtr p = SPI_prepare("SELECT r.relid FROM dbkit.reference_objects r "
		                           "WHERE r.objid OPERATOR(pg_catalog.=) ANY ($1) AND r.relid IS NOT NULL",
		                           1, &argtype);
		if (!p)
			elog(ERROR, "dbkit: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		plan = p;
	}
	Datum arg = oid_array(objects);
	if (SPI_execute_plan(plan, &arg, nullptr, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "dbkit: reading dbkit.reference_objects failed");
	for (uint64 i = 0; i < SPI_processed; ++i) {
		bool isnull;
		Datum d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
			add(out, DatumGetObjectId(d));
	}
	SPI_finish();
}

// objects, with the table (or domain, publication) whose entry each is a part of
OidSet owners_of(const OidSet *objects) {
	OidSet out = {nullptr, 0, 0};
	for (int i = 0; i < objects->n; ++i) {
		add(&out, objects->v[i]);
		add_live_owners(objects->v[i], &out);
	}
	add_reference_owners(objects, &out);
	make_unique(&out);
	return out;
}

// The system catalogs pg_depend.refclassid can name (those with an oid column), found
// once per backend through pg_class's oid index: they never change under a server.
const OidSet *catalog_classes() {
	static OidSet classes = {nullptr, 0, 0};
	static bool done = false;
	if (done)
		return &classes;
	OidSet found = {nullptr, 0, 0};
	ScanKeyData key;
	ScanKeyInit(&key, Anum_pg_class_oid, BTLessStrategyNumber, F_OIDLT, ObjectIdGetDatum(FirstNormalObjectId));
	Relation rel = table_open(RelationRelationId, AccessShareLock);
	SysScanDesc sd = systable_beginscan(rel, ClassOidIndexId, true, nullptr, 1, &key);
	HeapTuple tup;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	while (HeapTupleIsValid(tup = systable_getnext(sd))) {
		auto *c = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup));
		// (get_rel_relkind: tests/compat/check_guards.sh keeps "->relkind" for AlterTableStmt's)
		if (c->relnamespace == PG_CATALOG_NAMESPACE && get_rel_relkind(c->oid) == RELKIND_RELATION &&
		    SearchSysCacheExistsAttName(c->oid, "oid"))
			add(&found, c->oid);
	}
	MemoryContextSwitchTo(old);
	systable_endscan(sd);
	table_close(rel, AccessShareLock);
	classes = found;
	done = true;
	return &classes;
}

// Everything in the touched schemas (a rename changes every key there).
void add_schema_contents(const OidSet *nsps, OidSet *out) {
	for (int i = 0; i < nsps->n; ++i) {
		Oid n = nsps->v[i];
		scan(RelationRelationId, InvalidOid, Anum_pg_class_relnamespace, n, take_class_oid, out);
		scan(ProcedureRelationId, InvalidOid, Anum_pg_proc_pronamespace, n, take_proc_oid, out);
		scan(TypeRelationId, InvalidOid, Anum_pg_type_typnamespace, n, take_type_oid, out);
		scan(OperatorRelationId, InvalidOid, Anum_pg_operator_oprnamespace, n, take_operator_oid, out);
		scan(DefaultAclRelationId, InvalidOid, Anum_pg_default_acl_defaclnamespace, n, take_default_acl_oid, out);
		scan(ExtensionRelationId, InvalidOid, Anum_pg_extension_extnamespace, n, take_extension_oid, out);
		scan(PublicationNamespaceRelationId, PublicationNamespacePnnspidPnpubidIndexId,
		     Anum_pg_publication_namespace_pnnspid, n, take_pnpubid, out);
	}
}

}  // namespace

extern "C" {
PG_FUNCTION_INFO_V1(dbkit_expand_touched);
}

extern "C" Datum dbkit_expand_touched(PG_FUNCTION_ARGS) {
	OidSet touched = {nullptr, 0, 0};
	if (!PG_ARGISNULL(0)) {
		ArrayType *a = PG_GETARG_ARRAYTYPE_P(0);
		Datum *elems;
		bool *nulls;
		int n;
		deconstruct_array(a, OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; ++i)
			if (!nulls[i])
				add(&touched, DatumGetObjectId(elems[i]));
	}
	make_unique(&touched);
	OidSet owners = owners_of(&touched);

	OidSet nsps = {nullptr, 0, 0};
	for (int i = 0; i < owners.n; ++i)
		if (SearchSysCacheExists1(NAMESPACEOID, ObjectIdGetDatum(owners.v[i])))
			add(&nsps, owners.v[i]);
	add_schema_contents(&nsps, &owners);

	// a table's partitions and inheritance children, at every level: ALTER TABLE on a parent
	// changes them all, and pg_depend links a child to its direct parent only
	make_unique(&owners);
	OidSet seen = {nullptr, 0, 0};
	for (int i = 0; i < owners.n; ++i)
		add(&seen, owners.v[i]);
	OidSet frontier = owners;
	while (frontier.n > 0) {
		OidSet children = {nullptr, 0, 0};
		for (int i = 0; i < frontier.n; ++i)
			scan(InheritsRelationId, InheritsParentIndexId, Anum_pg_inherits_inhparent, frontier.v[i], take_inhrelid,
			     &children);
		make_unique(&children);
		make_unique(&seen);
		OidSet fresh = {nullptr, 0, 0};
		for (int i = 0; i < children.n; ++i)
			if (!contains(&seen, children.v[i]))
				add(&fresh, children.v[i]);
		for (int i = 0; i < fresh.n; ++i) {
			add(&seen, fresh.v[i]);
			add(&owners, fresh.v[i]);
		}
		frontier = fresh;
	}

	// a table's row type and the array types carry its name too
	OidSet named = {nullptr, 0, 0};
	for (int i = 0; i < owners.n; ++i) {
		add(&named, owners.v[i]);
		HeapTuple t = SearchSysCache1(RELOID, ObjectIdGetDatum(owners.v[i]));
		if (HeapTupleIsValid(t)) {
			add(&named, reinterpret_cast<Form_pg_class>(GETSTRUCT(t))->reltype);
			ReleaseSysCache(t);
		}
	}
	make_unique(&named);
	for (int i = 0, n = named.n; i < n; ++i) {
		HeapTuple t = SearchSysCache1(TYPEOID, ObjectIdGetDatum(named.v[i]));
		if (HeapTupleIsValid(t)) {
			add(&named, reinterpret_cast<Form_pg_type>(GETSTRUCT(t))->typarray);
			ReleaseSysCache(t);
		}
	}
	make_unique(&named);

	// what renders their names: their pg_depend dependents, and the tables those are parts
	// of (pg_depend through its referenced-object index, one probe per catalog and object)
	const OidSet *classes = catalog_classes();
	OidSet result_in = {nullptr, 0, 0};
	for (int i = 0; i < named.n; ++i)
		add(&result_in, named.v[i]);
	Relation dep = table_open(DependRelationId, AccessShareLock);
	for (int i = 0; i < named.n; ++i)
		for (int c = 0; c < classes->n; ++c) {
			ScanKeyData keys[2];
			ScanKeyInit(&keys[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
			            ObjectIdGetDatum(classes->v[c]));
			ScanKeyInit(&keys[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
			            ObjectIdGetDatum(named.v[i]));
			SysScanDesc sd = systable_beginscan(dep, DependReferenceIndexId, true, nullptr, 2, keys);
			HeapTuple tup;
			while (HeapTupleIsValid(tup = systable_getnext(sd)))
				take_depender(tup, RelationGetDescr(dep), &result_in, named.v[i]);
			systable_endscan(sd);
		}
	table_close(dep, AccessShareLock);
	make_unique(&result_in);
	OidSet result = owners_of(&result_in);
	PG_RETURN_DATUM(oid_array(&result));
}
