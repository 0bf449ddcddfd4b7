#pragma once
// Every PostgreSQL call whose name or signature differs between the majors dbkit supports (13 to 17) is
// made here, behind PG_VERSION_NUM, and nowhere else. docs/compat.md lists each one, the PostgreSQL change
// behind it, and what was built and tested (15 only). Included by pg.hpp after the server headers.
// These are plain C-level wrappers: callers run them inside PgCall when they can raise an ERROR.

#if PG_VERSION_NUM < 130000
#error "dbkit needs PostgreSQL 13 or later (docs/compat.md)"
#endif

namespace dbkit::compat {

// raw_parser() gained its RawParseMode argument in 14 (the grammar's several parse targets).
inline List *raw_parse(const char *sql) {
#if PG_VERSION_NUM >= 140000
	return raw_parser(sql, RAW_PARSE_DEFAULT);
#else
	return raw_parser(sql);
#endif
}

// A set-returning function in materialize mode: the tuplestore and tuple descriptor in
// fcinfo->resultinfo. 16+: InitMaterializedSRF. 15: SetSingleFuncCall, which every 15.x has
// (InitMaterializedSRF, its new name, arrived only in 15.1, so a module built against 15.1+
// headers that called it would not load into a 15.0 server). 13 and 14: set up by hand, the way
// fmgr/README describes materialize mode.
inline void init_materialized_srf(FunctionCallInfo fcinfo) {
#if PG_VERSION_NUM >= 160000
	InitMaterializedSRF(fcinfo, 0);
#elif PG_VERSION_NUM >= 150000
	SetSingleFuncCall(fcinfo, 0);
#else
	ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("set-valued function called in context that cannot accept a set")));
	if (!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
		                errmsg("materialize mode required, but it is not allowed in this context")));
	TupleDesc tupdesc;
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	TupleDesc stored = CreateTupleDescCopy(tupdesc);
	Tuplestorestate *store = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0, false,
	                                               work_mem);
	MemoryContextSwitchTo(old);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = stored;
#endif
}

// Reserving the "dbkit." GUC prefix: MarkGUCPrefixReserved since 15 (which also removes and refuses
// unknown dbkit.* settings); before, EmitWarningsOnPlaceholders only warned.
inline void reserve_guc_prefix(const char *prefix) {
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved(prefix);
#else
	EmitWarningsOnPlaceholders(prefix);
#endif
}

// SHA-256 of len bytes into digest (PG_SHA256_DIGEST_LENGTH bytes). Returns nullptr on success, else
// why it failed. 14+: the pg_cryptohash API (its final() takes the output length since 14.0; the
// error text, pg_cryptohash_error, since 15). 13: common/sha2.h's pg_sha256_* functions, which
// cannot fail. The context is resource-owner tracked on 14+: freed on both paths here.
inline const char *sha256(const uint8 *data, size_t len, uint8 *digest) {
#if PG_VERSION_NUM >= 140000
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL)
		return "out of memory";
	if (pg_cryptohash_init(ctx) < 0 || pg_cryptohash_update(ctx, data, len) < 0 ||
	    pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0) {
#if PG_VERSION_NUM >= 150000
		const char *why = pg_cryptohash_error(ctx);
#else
		const char *why = "pg_cryptohash failed";
#endif
		pg_cryptohash_free(ctx);
		return why;
	}
	pg_cryptohash_free(ctx);
	return NULL;
#else
	pg_sha256_ctx ctx;
	pg_sha256_init(&ctx);
	pg_sha256_update(&ctx, data, len);
	pg_sha256_final(&ctx, digest);
	return NULL;
#endif
}

// REINDEX ... CONCURRENTLY: a "concurrently" option in ReindexStmt.params since 14 (REINDEX's
// options became a DefElem list); a bool field `concurrent` in 12 and 13.
inline bool reindex_concurrently(const ReindexStmt *r) {
#if PG_VERSION_NUM >= 140000
	ListCell *lc;
	foreach (lc, r->params) {
		DefElem *opt = static_cast<DefElem *>(lfirst(lc));
		if (strcmp(opt->defname, "concurrently") == 0)
			return true;
	}
	return false;
#else
	return r->concurrent;
#endif
}

// ALTER TABLE/INDEX/VIEW/...: the statement's object type is AlterTableStmt.objtype since 14,
// AlterTableStmt.relkind (also an ObjectType) before.
inline ObjectType alter_table_objtype(const AlterTableStmt *a) {
#if PG_VERSION_NUM >= 140000
	return a->objtype;
#else
	return a->relkind;
#endif
}

// CREATE TABLE AS / CREATE MATERIALIZED VIEW: CreateTableAsStmt.objtype since 14, .relkind (also
// an ObjectType) before, renamed in the same change as AlterTableStmt's.
inline ObjectType create_table_as_objtype(const CreateTableAsStmt *c) {
#if PG_VERSION_NUM >= 140000
	return c->objtype;
#else
	return c->relkind;
#endif
}

// An object's identity text (what pg_identify_object() returns as identity), NULL when it does not
// exist. 14+: getObjectIdentity(address, missing_ok); 13 has no missing_ok and raises for a missing
// object, so its callers must know it exists (touched.cpp checks with grant_kind's syscache).
inline char *object_identity(const ObjectAddress *address) {
#if PG_VERSION_NUM >= 140000
	return getObjectIdentity(address, true);
#else
	return getObjectIdentity(address);
#endif
}

}  // namespace dbkit::compat
