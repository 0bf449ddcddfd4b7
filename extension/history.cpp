#include "history.hpp"

#include <array>

#include <fmt/format.h>

#include "errcodes.hpp"

#include "spi.hpp"

namespace dbkit {

void require_deployer(const char *fn) {
	// by oid: a name lookup would itself fail on the schema's USAGE check
	spi::execute_cached(
	    // the extension's own relations through pg_depend's index: a scan of pg_class
	    // for schema dbkit grows with the user's schema (40 ms at 10,000 tables)
	    "WITH s AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'dbkit'), "
	    "m AS (SELECT c.oid, c.relname, c.relkind FROM pg_catalog.pg_depend d "
	    "      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) d.objid "
	    "      WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass "
	    "        AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'dbkit') "
	    "        AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype = 'e' "
	    "        AND c.relnamespace OPERATOR(pg_catalog.=) (SELECT oid FROM s)) "
	    "SELECT pg_catalog.string_agg(lacks, ', ' ORDER BY n) FROM ("
	    "SELECT 0 AS n, 'USAGE on schema dbkit' AS lacks FROM s WHERE NOT pg_catalog.has_schema_privilege(s.oid, 'USAGE') "
	    "UNION ALL SELECT 1, pg_catalog.format('SELECT, INSERT, UPDATE, DELETE on dbkit.%I', m.relname) FROM m "
	    "WHERE CASE WHEN m.relkind = 'r' AND m.relname IN ('migrations', 'events', 'snapshots', 'progress') "
	    // each privilege: has_table_privilege with a list is true when any one is held
	    "THEN NOT (pg_catalog.has_table_privilege(m.oid, 'SELECT') AND pg_catalog.has_table_privilege(m.oid, 'INSERT') "
	    "          AND pg_catalog.has_table_privilege(m.oid, 'UPDATE') AND pg_catalog.has_table_privilege(m.oid, 'DELETE')) END "
	    "UNION ALL SELECT 2, pg_catalog.format('USAGE on sequence dbkit.%I', m.relname) FROM m "
	    "WHERE CASE WHEN m.relkind = 'S' THEN NOT pg_catalog.has_sequence_privilege(m.oid, 'USAGE') END) x");
	auto lacks = spi::get_text(0, 1);
	if (!lacks)
		return;
	spi::execute("SELECT pg_catalog.quote_literal(CURRENT_USER::pg_catalog.text), "
	             "(SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e "
	             "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dbkit')");
	std::string role = spi::get_text(0, 1).value_or("''"), schema = spi::get_text(0, 2).value_or("public");
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
	            fmt::format("permission denied: role {} cannot run {}: it lacks {}", role, fn, *lacks),
	            fmt::format("A superuser grants what a deployer needs: SELECT {}.dbkit_grant_deployer({});", schema, role));
}

void require_reader(const char *fn) {
	// by oid, as above: a name lookup would itself fail on the schema's USAGE check, with
	// dbkit's own query in the message (attack 7)
	spi::execute_cached(
	    "WITH s AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'dbkit') "
	    "SELECT pg_catalog.string_agg(lacks, ', ' ORDER BY n) FROM ("
	    "SELECT 0 AS n, 'USAGE on schema dbkit' AS lacks FROM s WHERE NOT pg_catalog.has_schema_privilege(s.oid, 'USAGE') "
	    "UNION ALL SELECT 1, pg_catalog.format('SELECT on dbkit.%I', c.relname) FROM pg_catalog.pg_class c, s "
	    "WHERE c.relnamespace OPERATOR(pg_catalog.=) s.oid "
	    "  AND c.relname OPERATOR(pg_catalog.=) ANY ('{snapshots,ddl_audit}'::pg_catalog.name[]) "
	    "  AND NOT pg_catalog.has_table_privilege(c.oid, 'SELECT')) x");
	auto lacks = spi::get_text(0, 1);
	if (!lacks)
		return;
	spi::execute("SELECT pg_catalog.quote_ident(CURRENT_USER::pg_catalog.text)");
	std::string role = spi::get_text(0, 1).value_or("CURRENT_USER");
	throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
	            fmt::format("permission denied: role {} cannot run {}: it lacks {}", role, fn, *lacks),
	            fmt::format("A monitoring role reads drift through pg_monitor: GRANT pg_monitor TO {}; a deployer "
	                        "(dbkit_grant_deployer) reads it too.",
	                        role));
}

std::vector<core::HistoryRow> read_history() {
	spi::execute("SELECT tag, hash, idx, created_at FROM dbkit.migrations ORDER BY id");
	std::vector<core::HistoryRow> out;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		out.push_back({*spi::get_text(i, 1), *spi::get_text(i, 2), spi::get_int64(i, 3).value_or(0),
		               spi::get_int64(i, 4).value_or(0)});
	return out;
}

DrizzleTable::DrizzleTable(const Options &o) : schema_(o.drizzle_schema), table_(o.drizzle_table) {
	qualified_ = spi::sql_ident(schema_) + "." + spi::sql_ident(table_);
	detect();
}

void DrizzleTable::detect() {
	// Any relation by that name counts (view, foreign table, partition, sequence,
	// ...): one that is not a plain table is refused by check_trust, never
	// mistaken for "absent" (CREATE TABLE IF NOT EXISTS would then skip it and
	// our INSERT would go wherever its rules or triggers send it).
	check_trust();
	spi::execute_cached(
	    "SELECT a.attname::text FROM pg_catalog.pg_attribute a "
	    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
	    {spi::text(schema_), spi::text(table_)});
	exists_ = spi::rows() > 0;
	has_id_ = has_name_ = has_created_at_ = false;
	for (uint64_t i = 0; i < spi::rows(); ++i) {
		std::string col = *spi::get_text(i, 1);
		has_id_ |= col == "id";
		has_name_ |= col == "name";
		has_created_at_ |= col == "created_at";
	}
}

namespace {

// A name as one shell word, for a hint the user can paste.
std::string shell_word(const std::string &s) {
	if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == std::string::npos)
		return s;
	std::string out = "'";
	for (char c : s)
		out += c == '\'' ? std::string("'\\''") : std::string(1, c);
	return out + "'";
}

// Whether the deploying role may trust objects owned by `owner_expr` (an oid
// column): its own, a superuser's, or (for a role that is not superuser) a
// role it is a member of. A schema owned by pg_database_owner is the database
// owner's.
std::string trusted_sql(const char *owner_expr) {
	return fmt::format(
	    "(WITH o AS (SELECT CASE WHEN {0} = 'pg_database_owner'::pg_catalog.regrole "
	    "THEN (SELECT d.datdba FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()) "
	    "ELSE {0} END AS oid) "
	    "SELECT o.oid = me.oid OR ow.rolsuper OR (NOT me.rolsuper AND pg_catalog.pg_has_role(o.oid, 'MEMBER')) "
	    "FROM o JOIN pg_catalog.pg_roles ow ON ow.oid = o.oid, pg_catalog.pg_roles me WHERE me.rolname = CURRENT_USER)",
	    owner_expr);
}

const char *relkind_name(const std::string &k, bool partition) {
	if (partition)
		return "partition";
	switch (k.empty() ? ' ' : k[0]) {
	case 'r': return "table";
	case 'p': return "partitioned table";
	case 'v': return "view";
	case 'm': return "materialized view";
	case 'f': return "foreign table";
	case 'S': return "sequence";
	case 'i': case 'I': return "index";
	case 'c': return "composite type";
	case 't': return "TOAST table";
	default: return "relation";
	}
}

}  // namespace

// dbkit reads drizzle's rows to adopt migrations and writes rows into the table
// as the deploying role: a table (or schema) that another role controls could
// decide what counts as applied, and anything that runs code on our INSERT or
// SELECT (a view's rules, triggers, a policy, a default, a check constraint, an
// index expression calling a function outside pg_catalog) would run it with our
// rights. So drizzle's table is a plain table owned by a trusted role, in a
// schema owned by a trusted role, and nothing on it calls user code.
void DrizzleTable::check_trust() {
	const std::string hint_other =
	    fmt::format("Point dbkit at drizzle's real table with --drizzle-schema/--drizzle-table, or run with "
	                "--no-drizzle-sync; if {} is not drizzle's, drop it (as its owner or a superuser).",
	                qualified_);
	// the schema: whoever owns it can swap the table under us
	spi::execute_cached(fmt::format("SELECT pg_catalog.pg_get_userbyid(n.nspowner), {} FROM pg_catalog.pg_namespace n "
	                         "WHERE n.nspname = $1",
	                         trusted_sql("n.nspowner"))
	                 .c_str(),
	             {spi::text(schema_)});
	if (spi::rows() == 0)
		return;  // created by ensure(), then checked again
	if (spi::get_text(0, 2) != "t")
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle's schema {} is owned by {}, a role this deploy does not act as: dbkit will "
		                        "not read or write drizzle's table there",
		                        spi::sql_ident(schema_), *spi::get_text(0, 1)),
		            fmt::format("Have the deploying role (or a superuser) own it: ALTER SCHEMA {} OWNER TO CURRENT_USER; "
		                        "or keep drizzle's table elsewhere (--drizzle-schema), or run with --no-drizzle-sync.",
		                        spi::sql_ident(schema_)));

	spi::execute_cached(
	    fmt::format(
	        "SELECT c.oid::text, c.relkind::text, c.relispartition, pg_catalog.pg_get_userbyid(c.relowner), {}, "
	        "EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid) "
	        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	        "WHERE n.nspname = $1 AND c.relname = $2",
	        trusted_sql("c.relowner"))
	        .c_str(),
	    {spi::text(schema_), spi::text(table_)});
	if (spi::rows() == 0)
		return;
	std::string oid = *spi::get_text(0, 1), kind = *spi::get_text(0, 2), owner = *spi::get_text(0, 4);
	bool partition = spi::get_text(0, 3) == "t", inherits = spi::get_text(0, 6) == "t";
	if (kind != "r" || partition)
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle's table {} is a {} (owner {}), not a plain table: dbkit will not read or "
		                        "write it",
		                        qualified_, relkind_name(kind, partition), owner),
		            hint_other);
	if (spi::get_text(0, 5) != "t")
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle's table {} is owned by {}, a role this deploy does not act as: dbkit will "
		                        "not trust or write it",
		                        qualified_, owner),
		            fmt::format("If it is drizzle's, have the deploying role own it (ALTER TABLE {} OWNER TO ...); {}",
		                        qualified_, hint_other));
	if (inherits)
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle's table {} (owner {}) has inheritance parents or children: rows of other "
		                        "tables would count as applied migrations",
		                        qualified_, owner),
		            fmt::format("Detach them (ALTER TABLE ... NO INHERIT {}); drizzle's migrator needs none.", qualified_));

	// triggers of any kind (also clones on partitions), rules, and expressions
	// that call functions or operators outside pg_catalog
	spi::execute_cached(
	    "SELECT 'trigger ' || pg_catalog.quote_ident(t.tgname) FROM pg_catalog.pg_trigger t "
	    "WHERE t.tgrelid = $1::pg_catalog.oid AND NOT t.tgisinternal "
	    "UNION ALL SELECT 'rule ' || pg_catalog.quote_ident(w.rulename) FROM pg_catalog.pg_rewrite w "
	    "WHERE w.ev_class = $1::pg_catalog.oid "
	    "UNION ALL SELECT 'column ' || pg_catalog.quote_ident(a.attname) || ' of type ' || "
	    "pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
	    "JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
	    "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped "
	    "AND ty.typnamespace <> 'pg_catalog'::pg_catalog.regnamespace "
	    "UNION ALL SELECT DISTINCT pg_catalog.pg_describe_object(d2.classid, d2.objid, d2.objsubid) || ' calls ' || "
	    "pg_catalog.pg_describe_object(d2.refclassid, d2.refobjid, 0) "
	    "FROM pg_catalog.pg_depend d1 JOIN pg_catalog.pg_depend d2 ON d2.classid = d1.classid AND d2.objid = d1.objid "
	    "WHERE d1.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d1.refobjid = $1::pg_catalog.oid "
	    "AND ((d2.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND EXISTS (SELECT 1 FROM pg_catalog.pg_proc p "
	    "WHERE p.oid = d2.refobjid AND p.pronamespace <> 'pg_catalog'::pg_catalog.regnamespace)) "
	    "OR (d2.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND EXISTS (SELECT 1 FROM "
	    "pg_catalog.pg_operator o WHERE o.oid = d2.refobjid AND o.oprnamespace <> "
	    "'pg_catalog'::pg_catalog.regnamespace))) "
	    "ORDER BY 1",
	    {spi::text(oid)});
	if (spi::rows() > 0) {
		std::string what;
		for (uint64_t i = 0; i < spi::rows() && i < 10; ++i)
			what += (i ? ", " : "") + spi::get_text(i, 1).value_or("?");
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle's table {} (owner {}) runs code on dbkit's INSERT or SELECT ({}): dbkit "
		                        "will not read or write it",
		                        qualified_, owner, what),
		            fmt::format("Drop them (drizzle's migrator needs no trigger, rule, policy, custom type or "
		                        "default calling a function of yours), or run with --no-drizzle-sync. {}",
		                        hint_other));
	}
}

void DrizzleTable::refuse_if_elsewhere(const std::vector<std::string> &hashes) const {
	if (exists_ || hashes.empty())
		return;
	// Tables with drizzle's shape, readable without running anyone's code: plain
	// tables without policies (a SELECT on them runs nothing but the scan).
	spi::execute(
	    "SELECT c.oid::text, n.nspname::text, c.relname::text FROM pg_catalog.pg_class c "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit') "
	    "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' "
	    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid) "
	    "AND pg_catalog.has_table_privilege(c.oid, 'SELECT') "
	    "AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'hash' "
	    "AND a.atttypid = 'pg_catalog.text'::pg_catalog.regtype AND NOT a.attisdropped) "
	    "AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'created_at' "
	    "AND a.atttypid = 'pg_catalog.int8'::pg_catalog.regtype AND NOT a.attisdropped) "
	    "ORDER BY 2, 3");
	std::vector<std::array<std::string, 2>> candidates;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		candidates.push_back({*spi::get_text(i, 2), *spi::get_text(i, 3)});
	std::string list;
	for (const auto &h : hashes)
		list += (list.empty() ? "" : ",") + h;  // sha256 hex: no comma, no quote
	for (const auto &[schema, table] : candidates) {
		std::string q = spi::sql_ident(schema) + "." + spi::sql_ident(table);
		std::string sql = fmt::format(
		    "SELECT pg_catalog.count(*) FROM {} WHERE hash OPERATOR(pg_catalog.=) ANY (pg_catalog.string_to_array($1, ','))", q);
		spi::execute(sql.c_str(), {spi::text(list)});
		int64_t matched = spi::get_int64(0, 1).value_or(0);
		if (matched == 0)
			continue;
		throw Error(DBKIT_DRIZZLE_ELSEWHERE,
		            fmt::format("drizzle's table {} does not exist, but {} has drizzle's shape and records {} of this "
		                        "folder's migrations: drizzle's migrator was configured to keep its table there, and "
		                        "without it dbkit would run those migrations again",
		                        qualified_, q, matched),
		            fmt::format("Point dbkit at it: dbkit migrate --drizzle-schema {} --drizzle-table {} (the repairs "
		                        "take the same flags; options {{\"drizzle_schema\": ..., \"drizzle_table\": ...}} in "
		                        "SQL). If {} is stale, drop or rename it first. Nothing was "
		                        "applied.",
		                        shell_word(schema), shell_word(table), q));
	}
}

std::string DrizzleTable::read_sql() const {
	return fmt::format("SELECT {}, hash::text, {}, {} FROM {}", has_id_ ? "id::bigint" : "NULL::bigint",
	                   has_created_at_ ? "created_at::bigint" : "NULL::bigint", has_name_ ? "name::text" : "NULL::text",
	                   qualified_);
}

std::vector<core::DrizzleRow> DrizzleTable::read() const {
	std::vector<core::DrizzleRow> out;
	if (!exists_)
		return out;
	spi::execute(read_sql().c_str());
	for (uint64_t i = 0; i < spi::rows(); ++i) {
		core::DrizzleRow r;
		r.id = spi::get_int64(i, 1).value_or(0);
		r.hash = spi::get_text(i, 2).value_or("");
		r.created_at = spi::get_int64(i, 3);
		r.name = spi::get_text(i, 4);
		out.push_back(std::move(r));
	}
	return out;
}

void DrizzleTable::ensure(bool v1_shape) {
	if (exists_)
		return;
	check_can_create();
	// CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
	// schema exists: a deployer granted only USAGE and CREATE on drizzle's schema
	// (dbkit_grant_deployer) skips it
	spi::execute("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", {spi::text(schema_)});
	bool have_schema = spi::rows() > 0;
	std::string sql = fmt::format(
	    "{}CREATE TABLE IF NOT EXISTS {} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint{})",
	    have_schema ? "" : fmt::format("CREATE SCHEMA IF NOT EXISTS {}; ", spi::sql_ident(schema_)), qualified_,
	    v1_shape ? ", name text, applied_at timestamp with time zone DEFAULT now()" : "");
	spi::execute(sql.c_str());
	detect();
}

void DrizzleTable::insert(const std::string &hash, int64_t when, const std::string &name) {
	if (!insert_plan_) {
		std::string sql = has_name_ ? fmt::format("INSERT INTO {} (hash, created_at, name) VALUES ($1, $2, $3)", qualified_)
		                            : fmt::format("INSERT INTO {} (hash, created_at) VALUES ($1, $2)", qualified_);
		if (!has_created_at_)
			sql = has_name_ ? fmt::format("INSERT INTO {} (hash, name) VALUES ($1, $3)", qualified_)
			                : fmt::format("INSERT INTO {} (hash) VALUES ($1)", qualified_);
		insert_plan_ = spi::prepare(sql.c_str(), {TEXTOID, INT8OID, TEXTOID});
	}
	spi::execute_plan(insert_plan_, {spi::text(hash), spi::int8(when), spi::text(name)});
}

void DrizzleTable::remove(const std::string &hash, std::optional<int64_t> when) {
	std::string where = has_created_at_ ? "hash = $1 AND created_at IS NOT DISTINCT FROM $2" : "hash = $1";
	std::string sql = fmt::format("DELETE FROM {0} WHERE ctid = (SELECT ctid FROM {0} WHERE {1} LIMIT 1)", qualified_, where);
	spi::execute(sql.c_str(), {spi::text(hash), when ? spi::int8(*when) : spi::Arg{INT8OID, Datum(0), true}});
}

// The row of one migration: its hash and its journal `when` (and its name, in
// drizzle 1.0's shape). Two migrations with identical content share the hash,
// so the hash alone would touch both.
std::string DrizzleTable::one_row_where() const {
	std::string where = has_created_at_ ? "hash = $1 AND created_at IS NOT DISTINCT FROM $2" : "hash = $1";
	return fmt::format("ctid = (SELECT ctid FROM {} WHERE {} ORDER BY {} LIMIT 1)", qualified_, where,
	                   has_name_ ? "(name IS NOT DISTINCT FROM $3) DESC, id" : (has_id_ ? "id" : "ctid"));
}

void DrizzleTable::rehash(const std::string &old_hash, const std::string &new_hash, int64_t when,
                          const std::string &name) {
	std::string sql = fmt::format("UPDATE {} SET hash = $4 WHERE {}", qualified_, one_row_where());
	spi::execute(sql.c_str(), {spi::text(old_hash), spi::int8(when), spi::text(name), spi::text(new_hash)});
}

// Issue 16, item 12: creating drizzle's table (and its schema, on a first run)
// needs CREATE on the database or on the schema, which the deploy grants may
// lack: say so with the fix, rather than PostgreSQL's bare "permission denied".
void DrizzleTable::check_can_create() {
	spi::execute(
	    "SELECT n.oid IS NOT NULL, pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE'), "
	    "n.oid IS NOT NULL AND pg_catalog.has_schema_privilege(n.oid, 'CREATE'), CURRENT_USER::text, "
	    "pg_catalog.current_database()::text "
	    "FROM (SELECT 1) one LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = $1",
	    {spi::text(schema_)});
	bool schema_exists = spi::get_text(0, 1) == "t", db_create = spi::get_text(0, 2) == "t",
	     schema_create = spi::get_text(0, 3) == "t";
	std::string role = spi::sql_ident(*spi::get_text(0, 4)), db = spi::sql_ident(*spi::get_text(0, 5));
	std::string schema = spi::sql_ident(schema_);
	if (!schema_exists && !db_create)
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle sync: dbkit must create schema {} for drizzle's table {}, and role {} has no "
		                        "CREATE privilege on database {}",
		                        schema, qualified_, role, db),
		            fmt::format("As a superuser or the database owner, either GRANT CREATE ON DATABASE {} TO {}; or "
		                        "create the schema for it once: CREATE SCHEMA {} AUTHORIZATION {}; or deploy with "
		                        "--no-drizzle-sync (drizzle's own migrator would then find nothing recorded). Nothing "
		                        "was applied.",
		                        db, role, schema, role));
	if (schema_exists && !schema_create)
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle sync: dbkit must create drizzle's table {}, and role {} has no CREATE "
		                        "privilege on schema {}",
		                        qualified_, role, schema),
		            fmt::format("As a superuser, make the deploying role own the schema: ALTER SCHEMA {} OWNER TO {}; "
		                        "or deploy with --no-drizzle-sync. Nothing was applied.",
		                        schema, role));
}

HistoryWriter::HistoryWriter(const char *action, const std::string &tag, const std::string &reason,
                             const std::string &detail_json) {
	auto opt = [](const std::string &s) { return s.empty() ? std::optional<std::string>() : std::optional(s); };
	spi::execute(
	    "INSERT INTO dbkit.events (action, tag, reason, detail, client) "
	    "VALUES ($1, $2, $3, $4::jsonb, pg_catalog.current_setting('application_name')) RETURNING id",
	    {spi::text(action), spi::text_or_null(opt(tag)), spi::text_or_null(opt(reason)),
	     spi::text_or_null(opt(detail_json))});
	run_id_ = *spi::get_int64(0, 1);
}

void DrizzleTable::rename(const std::string &hash, int64_t when, const std::string &old_name,
                         const std::string &name) {
	if (!exists_ || !has_name_)
		return;
	// the row of that migration only: its hash and old folder name (or, for a
	// row without a name, its `when`); another migration may share the hash
	std::string unnamed = has_created_at_ ? "name IS NULL AND created_at IS NOT DISTINCT FROM $2" : "name IS NULL";
	std::string sql = fmt::format("UPDATE {0} SET name = $3 WHERE ctid = (SELECT ctid FROM {0} WHERE hash = $1 AND "
	                              "(name = $4 OR ({1})) ORDER BY (name = $4) DESC NULLS LAST, {2} LIMIT 1)",
	                              qualified_, unnamed, has_id_ ? "id" : "ctid");
	std::vector<spi::Arg> args{spi::text(hash), spi::int8(when), spi::text(name), spi::text(old_name)};
	spi::execute(sql.c_str(), args);
	if (spi::rows() > 0)
		return;
	// a row named otherwise (drizzle wrote it under another name): the oldest with that hash not yet renamed
	sql = fmt::format("UPDATE {0} SET name = $3 WHERE ctid = (SELECT ctid FROM {0} WHERE hash = $1 AND "
	                  "name IS DISTINCT FROM $3 ORDER BY {1} LIMIT 1)",
	                  qualified_, has_id_ ? "id" : "ctid");
	spi::execute(sql.c_str(), args);
}

void HistoryWriter::rename(const std::string &old_tag, const std::string &new_tag, int64_t idx) {
	spi::execute("UPDATE dbkit.migrations SET tag = $2, idx = $3 WHERE tag = $1",
	             {spi::text(old_tag), spi::text(new_tag), spi::int4(static_cast<int32_t>(idx))});
}

void HistoryWriter::set_detail(const std::string &detail_json) {
	spi::execute("UPDATE dbkit.events SET detail = $2::jsonb WHERE id = $1", {spi::int8(run_id_), spi::text(detail_json)});
}

void HistoryWriter::record(const Recorded &r) {
	if (!insert_plan_)
		insert_plan_ = spi::prepare(
		    "INSERT INTO dbkit.migrations (tag, idx, hash, created_at, duration_ms, statements, how, run_id, down_hash) "
		    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		    {TEXTOID, INT4OID, TEXTOID, INT8OID, FLOAT8OID, INT4OID, TEXTOID, INT8OID, TEXTOID});
	spi::execute_plan(insert_plan_, {spi::text(r.tag), spi::int4(static_cast<int32_t>(r.idx)), spi::text(r.hash),
	                                 spi::int8(r.when), spi::float8(r.duration_ms), spi::int4(r.statements),
	                                 spi::text(r.how), spi::int8(run_id_), spi::text_or_null(r.down_hash)});
}

}  // namespace dbkit
