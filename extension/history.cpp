#include "history.hpp"

#include <fmt/format.h>

#include "spi.hpp"

namespace dbkit {

void lock_history(int64_t wait_ms) { acquire_deploy_lock(false, wait_ms); }

std::vector<core::HistoryRow> read_history() {
	spi::execute("SELECT tag, hash, idx, created_at FROM dbkit.migrations ORDER BY id");
	std::vector<core::HistoryRow> out;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		out.push_back({*spi::get_text(i, 1), *spi::get_text(i, 2), spi::get_int64(i, 3).value_or(0),
		               spi::get_int64(i, 4).value_or(0)});
	return out;
}

DrizzleTable::DrizzleTable(const Options &o) : schema_(o.drizzle_schema), table_(o.drizzle_table) {
	qualified_ = spi::quote_ident(schema_) + "." + spi::quote_ident(table_);
	detect();
}

void DrizzleTable::detect() {
	spi::execute(
	    "SELECT a.attname::text FROM pg_catalog.pg_attribute a "
	    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped",
	    {spi::text(schema_), spi::text(table_)});
	exists_ = spi::rows() > 0;
	has_id_ = has_name_ = has_created_at_ = false;
	std::vector<std::string> cols;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		cols.push_back(*spi::get_text(i, 1));
	if (exists_)
		check_trust();
	for (const auto &col : cols) {
		has_id_ |= col == "id";
		has_name_ |= col == "name";
		has_created_at_ |= col == "created_at";
	}
}

// dbkit reads drizzle's rows to adopt migrations and writes rows into the table
// as the deploying role: a table (or schema) that another role controls could
// decide what counts as applied, and its triggers would run with our rights.
void DrizzleTable::check_trust() {
	spi::execute(
	    "SELECT pg_catalog.pg_get_userbyid(c.relowner), pg_catalog.pg_get_userbyid(n.nspowner), "
	    "(c.relowner = r.oid OR ro.rolsuper OR (NOT r.rolsuper AND pg_catalog.pg_has_role(c.relowner, 'MEMBER'))) "
	    "AND (n.nspowner = r.oid OR so.rolsuper OR (NOT r.rolsuper AND pg_catalog.pg_has_role(n.nspowner, 'MEMBER'))), "
	    "EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal) "
	    "OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite w WHERE w.ev_class = c.oid) "
	    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "JOIN pg_catalog.pg_roles ro ON ro.oid = c.relowner JOIN pg_catalog.pg_roles so ON so.oid = n.nspowner "
	    "JOIN pg_catalog.pg_roles r ON r.rolname = CURRENT_USER "
	    "WHERE n.nspname = $1 AND c.relname = $2",
	    {spi::text(schema_), spi::text(table_)});
	if (spi::rows() == 0)
		return;
	std::string owner = *spi::get_text(0, 1), schema_owner = *spi::get_text(0, 2);
	if (spi::get_text(0, 3) != "t")
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle's table {} (owner {}, schema owner {}) belongs to a role this deploy does not "
		                        "act as: dbkit will not trust or write it",
		                        qualified_, owner, schema_owner),
		            "Have the deploying role own it (ALTER TABLE ... OWNER TO), or run with --no-drizzle-sync.");
	if (spi::get_text(0, 4) == "t")
		throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
		            fmt::format("drizzle's table {} has triggers or rules: dbkit will not write into it", qualified_),
		            "Drop them (drizzle's migrator does not need any), or run with --no-drizzle-sync.");
}

std::vector<core::DrizzleRow> DrizzleTable::read() const {
	std::vector<core::DrizzleRow> out;
	if (!exists_)
		return out;
	std::string sql = fmt::format("SELECT {}, hash::text, {}, {} FROM {}", has_id_ ? "id::bigint" : "NULL::bigint",
	                              has_created_at_ ? "created_at::bigint" : "NULL::bigint",
	                              has_name_ ? "name::text" : "NULL::text", qualified_);
	spi::execute(sql.c_str());
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
	std::string sql = fmt::format(
	    "CREATE SCHEMA IF NOT EXISTS {}; "
	    "CREATE TABLE IF NOT EXISTS {} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint{})",
	    spi::quote_ident(schema_), qualified_,
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

void DrizzleTable::rehash(const std::string &old_hash, const std::string &new_hash) {
	std::string sql = fmt::format("UPDATE {} SET hash = $2 WHERE hash = $1", qualified_);
	spi::execute(sql.c_str(), {spi::text(old_hash), spi::text(new_hash)});
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
	std::string role = spi::quote_ident(*spi::get_text(0, 4)), db = spi::quote_ident(*spi::get_text(0, 5));
	std::string schema = spi::quote_ident(schema_);
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

void DrizzleTable::rename(const std::string &hash, const std::string &name) {
	if (!exists_ || !has_name_)
		return;
	std::string sql = fmt::format("UPDATE {} SET name = $2 WHERE hash = $1", qualified_);
	spi::execute(sql.c_str(), {spi::text(hash), spi::text(name)});
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
		    "INSERT INTO dbkit.migrations (tag, idx, hash, created_at, duration_ms, statements, how, run_id) "
		    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		    {TEXTOID, INT4OID, TEXTOID, INT8OID, FLOAT8OID, INT4OID, TEXTOID, INT8OID});
	spi::execute_plan(insert_plan_, {spi::text(r.tag), spi::int4(static_cast<int32_t>(r.idx)), spi::text(r.hash),
	                                 spi::int8(r.when), spi::float8(r.duration_ms), spi::int4(r.statements),
	                                 spi::text(r.how), spi::int8(run_id_)});
}

}  // namespace dbkit
