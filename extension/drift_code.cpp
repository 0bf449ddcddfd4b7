// dbkit_drift_code(folder): the live schema against the code's schema as
// PostgreSQL builds it in the shadow, never against SQL text. The code's side is
// what the folder's migrations build; when the folder has a drizzle snapshot,
// also what that snapshot declares (schema.ts). A difference the migrations
// explain but the newest snapshot does not (hand-written migrations after it,
// drizzle #3165) is reported apart, as the folder's, not as drift.
// Each side is built once per content hash and kept in dbkit.code_schemas, so a
// monitoring poll on an unchanged folder builds no shadow.
#include <map>
#include <set>
#include <optional>

#include <fmt/format.h>

#include "core/code_drift.hpp"
#include "core/drift_describe.hpp"
#include "core/drizzle_snapshots.hpp"
#include "core/environment.hpp"
#include "core/schema_mentions.hpp"
#include "db_plan.hpp"
#include "errcodes.hpp"
#include "history.hpp"
#include "code_side.hpp"
#include "run_state.hpp"
#include "schema_engine.hpp"
#include "sha256.hpp"
#include "spi.hpp"
#include "srf.hpp"
#include "subxact.hpp"

namespace dbkit {
namespace {

// bumped when the snapshot reads more (2: comments, views' depends_on): older cached sides are built again;
constexpr const char *kEngineVersion = "dbkit-shadow-7";  // 3: "reprinted" members; 4: live objects hidden from lookups by name; 5: stand-ins for the environment's schemas; 6: stand-ins of what the sources use, running no live code; 7: live prints reprinted

// What the shadow takes from the live database besides the sources (shadow.cpp): drizzle's
// schema and table when they exist, the schemas extensions live in, the comments of those
// it makes again. A side cached before drizzle's migrator or dbkit made drizzle's schema
// was reused after, and reported that schema as added for good (found on FWU-DE/telli-api).
std::string environment() {
	spi::execute(
	    "SELECT pg_catalog.concat_ws('|', f.s, f.t, pg_catalog.current_setting('dbkit.environment_schemas', true), "
	    "  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "    WHERE n.nspname = f.s AND c.relname = f.t AND c.relkind = 'r'), "
	    "  (SELECT pg_catalog.string_agg(n.nspname || ':' || coalesce(d.description, ''), ',' ORDER BY n.nspname) "
	    "     FROM pg_catalog.pg_namespace n LEFT JOIN pg_catalog.pg_description d ON d.objoid = n.oid "
	    "      AND d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objsubid = 0 "
	    "    WHERE n.nspname = 'public' OR n.nspname = f.s "
	    "       OR n.oid IN (SELECT e.extnamespace FROM pg_catalog.pg_extension e))) "
	    "FROM (SELECT coalesce(x.f ->> 'drizzle_schema', 'drizzle') AS s, coalesce(x.f ->> 'drizzle_table', "
	    "      '__drizzle_migrations') AS t FROM (SELECT dbkit._reference_format() AS f) x) f");
	return spi::get_text(0, 1).value_or("");
}

std::string cache_key(const std::vector<const core::Migration *> &sources, const ShadowOptions &opts) {
	std::string basis = fmt::format("{}\n{}\n{}\n", kEngineVersion, PG_VERSION_NUM, environment());
	for (const std::string &name : opts.environment)  // the caller's environment schemas
		basis += "environment " + name + "\n";
	for (const core::Migration *m : sources)
		basis += m->file + "\n" + sha256_hex(m->sql) + "\n";
	if (!opts.live_snapshot.empty())  // its prints are written back onto the built side (shadow_reprint.hpp)
		basis += "live " + sha256_hex(opts.live_snapshot) + "\n";
	return sha256_hex(basis);
}

}  // namespace

std::string code_side(const std::vector<const core::Migration *> &sources, const std::string &label,
                      const ShadowOptions &opts) {
	std::string key = cache_key(sources, opts);
	spi::execute("SELECT snapshot::text FROM dbkit.code_schemas WHERE key = $1", {spi::text(key)});
	if (spi::rows())
		return *spi::get_text(0, 1);
	std::string snap;
	{
		RunScope run;  // the shadow's DDL is dbkit's own: never audited
		snap = shadow_snapshot(sources, opts);
	}
	// Kept for the next poll when this role may write the cache; a role that may
	// not (a monitoring role) simply builds again next time.
	Subxact sx;
	try {
		spi::execute(
		    "INSERT INTO dbkit.code_schemas (key, source, snapshot) VALUES ($1, $2, $3::pg_catalog.jsonb) "
		    "ON CONFLICT (key) DO UPDATE SET built_at = pg_catalog.now()",
		    {spi::text(key), spi::text(label), spi::text(snap)});
		spi::execute(
		    "DELETE FROM dbkit.code_schemas WHERE key NOT IN "
		    "(SELECT key FROM dbkit.code_schemas ORDER BY built_at DESC LIMIT 20)");
		sx.commit();
	} catch (const PgError &) {
		sx.rollback();
	}
	return snap;
}

std::map<std::string, std::string> comparable(const std::string &snapshot, const std::string *comments_from) {
	// owners and privileges belong to the environment, not to the code; a column's
	// position is where ADD COLUMN put it, not something schema.ts can say
	if (!comments_from)
		spi::execute(
		    "SELECT key, (value - '{owner,acl,position,reprinted}'::text[])::text FROM pg_catalog.jsonb_each($1::pg_catalog.jsonb) "
		    "WHERE key <> 'dbkit:format'",
		    {spi::text(snapshot)});
	else  // a side that cannot say comments (a drizzle snapshot) has those of `comments_from`, a view's
	      // columns' included
		spi::execute(
		    "SELECT s.key, ((s.value - '{owner,acl,position,comment,column_comments,reprinted}'::text[]) "
		    "  || pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('comment', f.value -> 'comment', "
		    "       'column_comments', f.value -> 'column_comments')))::text "
		    "FROM pg_catalog.jsonb_each($1::pg_catalog.jsonb) s "
		    "LEFT JOIN pg_catalog.jsonb_each($2::pg_catalog.jsonb) f ON f.key = s.key "
		    "WHERE s.key <> 'dbkit:format'",
		    {spi::text(snapshot), spi::text(*comments_from)});
	std::map<std::string, std::string> out;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		out.emplace(*spi::get_text(i, 1), *spi::get_text(i, 2));
	return out;
}

bool same_when_reprinted(const std::string &live, const std::string &code, const std::string &code_snapshot,
                         const std::string &key) {
	// the code's entry as PostgreSQL stores it once dbkit writes its printed text back
	// (shadow_reprint.cpp): a database pushed or migrated by dbkit holds that one
	spi::execute(
	    "SELECT ($2::pg_catalog.jsonb OPERATOR(pg_catalog.||) (e OPERATOR(pg_catalog.->) 'reprinted'))::text "
	    "FROM (SELECT $1::pg_catalog.jsonb OPERATOR(pg_catalog.->) $3 AS e) x "
	    "WHERE pg_catalog.jsonb_typeof(e OPERATOR(pg_catalog.->) 'reprinted') = 'object'",
	    {spi::text(code_snapshot), spi::text(code), spi::text(key)});
	return spi::rows() == 1 && spi::get_text(0, 1) == std::optional<std::string>(live);
}

void leave_out_environment(std::map<std::string, std::string> &live, const std::string &code_text,
                           const std::map<std::string, std::string> &code) {
	if (code_text.find("\"environment_schemas\"") == std::string::npos)
		return;
	spi::execute("SELECT pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb OPERATOR(pg_catalog.->) 'dbkit:format' "
	             "OPERATOR(pg_catalog.->) 'environment_schemas')",
	             {spi::text(code_text)});
	std::vector<std::string> schemas;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		schemas.push_back(spi::get_text(i, 1).value_or(""));
	for (auto it = live.begin(); it != live.end();)
		it = core::key_in_schemas(it->first, schemas) && !code.count(it->first) ? live.erase(it) : std::next(it);
}

std::string live_snapshot() {
	spi::execute("SELECT dbkit.snapshot()::text");
	return *spi::get_text(0, 1);
}

}  // namespace dbkit

using namespace dbkit;

namespace {

// Whether a drizzle snapshot (version 7) has a place for an object of this key's kind:
// tables and what is on them, enums, sequences, schemas, views, policies. Functions,
// triggers, extensions, grants, domains, rules, ... it never declares.
bool drizzle_snapshot_declares(const std::string &key) {
	static const char *const kinds[] = {"table", "column", "constraint", "index", "enum", "sequence", "schema", "view",
	                                    "policy"};
	std::string kind = key.substr(0, key.find(':'));
	for (const char *k : kinds)
		if (kind == k)
			return true;
	return false;
}

std::optional<std::string> at(const std::map<std::string, std::string> &m, const std::string &k) {
	auto it = m.find(k);
	return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
}

struct Row {
	std::string key;
	std::optional<std::string> expected, actual;
	std::string source;
	core::DriftItem d;
};

void add_row(std::vector<Row> &rows, const std::string &key, const std::optional<std::string> &expected,
             const std::optional<std::string> &actual, const std::string &source) {
	core::DriftItem d = core::describe_drift(key, expected, actual);
	if (source.rfind("folder: ", 0) == 0) {  // the snapshot against the migrations, not the database
		if (!expected)
			d.detail = d.kind + " " + d.name + " is built by the migrations but not declared in the snapshot";
		else if (!actual)
			d.detail = d.kind + " " + d.name + " is declared in the snapshot but no migration builds it";
	}
	rows.push_back({key, expected, actual, source, d});
}

// The table an entry belongs to ("public.users" for its columns, constraints,
// triggers, policies and indexes), or empty.
std::string owning_table(const Row &r) {
	static const char *kinds[] = {"column", "constraint", "trigger", "policy"};
	for (const char *k : kinds)
		if (r.d.kind == k) {
			auto parts = core::split_qualified(r.d.name);
			return parts.size() >= 3 ? parts[0] + "." + parts[1] : "";
		}
	if (r.d.kind == "index") {
		const std::optional<std::string> &v = r.expected ? r.expected : r.actual;
		core::JsonValue j;
		core::JsonError err;
		if (v && core::parse_json(*v, j, err))
			if (const core::JsonValue *t = j.find("table"))
				return t->string;
	}
	return "";
}

// One change is one difference: a table added or removed carries its columns,
// keys, indexes and triggers, which are not listed again. Returns the rows as
// JSON, for the result cache.
std::string emit(ResultRows &out, const std::vector<Row> &rows) {
	std::string json = "[";
	std::set<std::string> whole;  // "<source>|<change>|<table>"
	for (const Row &r : rows)
		if (r.d.kind == "table" && (!r.expected || !r.actual))
			whole.insert(r.source + "|" + r.d.change + "|" + r.d.name);
	for (const Row &r : rows) {
		std::string t = owning_table(r);
		if (!t.empty() && (!r.expected || !r.actual) && whole.count(r.source + "|" + r.d.change + "|" + t))
			continue;
		out.add({r.d.kind, r.d.name, r.d.change, r.d.detail, r.expected ? Cell(JsonText{*r.expected}) : Cell(),
		         r.actual ? Cell(JsonText{*r.actual}) : Cell(), r.source});
		json += (json.size() > 1 ? ", " : "") + fmt::format("[{}, {}, {}, {}, {}, {}, {}]", core::json_quote(r.d.kind),
		                                                    core::json_quote(r.d.name), core::json_quote(r.d.change),
		                                                    core::json_quote(r.d.detail),
		                                                    r.expected ? *r.expected : "null",
		                                                    r.actual ? *r.actual : "null", core::json_quote(r.source));
	}
	return json + "]";
}

// The rows a poll found for this key, when nothing changed since: the live
// catalog's fingerprint, the folder's files and the history are in the key.
bool emit_cached(ResultRows &out, const std::string &key) {
	spi::execute(
	    "SELECT r ->> 0, r ->> 1, r ->> 2, r ->> 3, nullif(r -> 4, 'null')::text, nullif(r -> 5, 'null')::text, r ->> 6 "
	    "FROM dbkit.code_drift_results c, pg_catalog.jsonb_array_elements(c.rows) r WHERE c.key = $1",
	    {spi::text(key)});
	uint64_t n = spi::rows();
	for (uint64_t i = 0; i < n; ++i)
		out.add({opt(spi::get_text(i, 1)), opt(spi::get_text(i, 2)), opt(spi::get_text(i, 3)), opt(spi::get_text(i, 4)),
		         spi::get_text(i, 5) ? Cell(JsonText{*spi::get_text(i, 5)}) : Cell(),
		         spi::get_text(i, 6) ? Cell(JsonText{*spi::get_text(i, 6)}) : Cell(), opt(spi::get_text(i, 7))});
	if (n)
		return true;
	spi::execute("SELECT 1 FROM dbkit.code_drift_results WHERE key = $1", {spi::text(key)});
	return spi::rows() > 0;  // cached: no difference
}

void store_result(const std::string &key, const std::string &rows) {
	Subxact sx;  // a role that may not write the cache polls without it
	try {
		spi::execute(
		    "INSERT INTO dbkit.code_drift_results (key, rows) VALUES ($1, $2::pg_catalog.jsonb) "
		    "ON CONFLICT (key) DO UPDATE SET at = pg_catalog.now()",
		    {spi::text(key), spi::text(rows)});
		spi::execute(
		    "DELETE FROM dbkit.code_drift_results WHERE key NOT IN "
		    "(SELECT key FROM dbkit.code_drift_results ORDER BY at DESC LIMIT 20)");
		sx.commit();
	} catch (const PgError &) {
		sx.rollback();
	}
}

}  // namespace

DBKIT_FUNCTION(dbkit_drift_code) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the folder argument is null");
	ResultRows out(fcinfo);
	std::vector<Row> rows;
	EngineOptions o = read_engine_options(PG_NARGS() > 1 ? jsonb_arg(fcinfo, 1) : nullptr);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0), /*writes=*/false);
	spi::connect();
	// The migrations the database has (applied, adopted, marked, baselined):
	// pending ones are not drift, dbkit status lists them.
	std::set<std::string> recorded;
	for (const auto &h : read_history())
		recorded.insert(h.tag);
	// and what drizzle's migrator applied (the next dbkit migrate adopts it without running
	// it) or dbkit applied under another tag: built by an applied migration all the same.
	// Asked only when some migration of the folder is not in dbkit's history (a poll of
	// an up-to-date database reads no more than before).
	bool unrecorded = false;
	for (const core::Migration &m : lf.folder.migrations)
		unrecorded |= !recorded.count(m.tag);
	if (unrecorded) {
		Subxact sx;
		try {
			for (const auto &it : plan_against_database(lf, Options{}).items)
				if (it.pos && (it.state == core::State::Adopt || it.state == core::State::Renamed))
					recorded.insert(lf.folder.migrations[*it.pos].tag);
			sx.commit();
		} catch (const PgError &) {
			sx.rollback();  // drizzle's table unreadable or untrusted: dbkit's history alone
		}
	}
	std::vector<const core::Migration *> applied, all = migrations_through(lf, "");
	std::string pending;
	for (const core::Migration *m : all) {
		if (recorded.count(m->tag))
			applied.push_back(m);
		else
			pending += (pending.empty() ? "" : ", ") + m->tag;
	}
	// Nothing changed since the last poll (the catalog fingerprint, the folder's
	// files, the history): its answer, without reading the schema.
	spi::execute("SELECT dbkit.catalog_fingerprint(), pg_catalog.current_setting('dbkit.environment_schemas', true)");
	std::string key_basis = "drift-code-2\n" + spi::get_text(0, 1).value_or("") + "\n" +
	                        "environment " + spi::get_text(0, 2).value_or("") + "\n";
	if (lf.input.journal)
		key_basis += "journal " + sha256_hex(*lf.input.journal) + "\n";
	for (const auto &[path, content] : lf.input.files)
		key_basis += std::string(path) + " " + sha256_hex(content) + "\n";
	for (const auto &t : recorded)
		key_basis += "applied " + t + "\n";
	std::string result_key = sha256_hex(key_basis);
	if (emit_cached(out, result_key)) {
		spi::finish();
		return out.done();
	}
	// a schema the folder names but never creates (Supabase's auth) is the environment's
	// even while only a pending migration names it
	core::SchemaMentions mentions;
	for (const core::Migration *m : all)
		core::add_schema_mentions(m->sql, mentions);
	std::string named = "{";
	for (const std::string &name : mentions.named)
		if (!mentions.created.count(name))
			named += (named.size() > 1 ? "," : "") + core::json_quote(name);
	spi::execute("SELECT n.nspname::pg_catalog.text FROM pg_catalog.pg_namespace n "
	             "WHERE n.nspname OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])",
	             {spi::text(named + "}")});
	for (uint64_t i = 0; i < spi::rows(); ++i)  // only live schemas: the cache key stays the same
		o.shadow.environment.insert(spi::get_text(i, 1).value_or(""));
	auto live = comparable(live_snapshot());
	std::string built_text = code_side(applied, "applied migrations", o.shadow);
	auto built = comparable(built_text);
	leave_out_environment(live, built_text, built);
	// drizzle snapshots carry no comments: the snapshot's side has the applied migrations'
	bool warned = false;  // an answer that came with a warning is not cached: a cached one would lose it
	std::optional<CodeSnapshot> snap = snapshot_side(lf, o.shadow, built_text, &warned);
	std::optional<std::map<std::string, std::string>> built_all;  // with the pending ones, when needed
	std::set<std::string> keys;
	for (const auto *m : {&live, &built})
		for (const auto &[k, v] : *m)
			keys.insert(k);
	if (snap)
		for (const auto &[k, v] : snap->schema)
			keys.insert(k);
	for (const std::string &k : keys) {
		auto a = at(live, k), b = at(built, k);
		if (!snap) {
			if (a != b)
				add_row(rows, k, b, a, "migrations");
			continue;
		}
		auto c = at(snap->schema, k);
		if (c == a)
			continue;
		if (b != a) {  // the live schema is not what its migrations built: drift
			// an object the snapshot does not declare (a --custom migration's function)
			// is compared with what the migrations built, not called new
			if (!c && b)
				add_row(rows, k, b, a, "migrations");
			else
				add_row(rows, k, c, a, snap->file);
			continue;
		}
		// The database is what its migrations built; the snapshot says otherwise. Not for
		// what no drizzle snapshot can declare (a hand-written migration's function or
		// trigger: Supabase's auth hooks): the snapshot is silent on it, not wrong.
		if (!c && !drizzle_snapshot_declares(k))
			continue;
		if (!pending.empty() && !built_all)
			built_all = comparable(code_side(all, "migrations", o.shadow));
		if (!pending.empty() && at(*built_all, k) == c)
			add_row(rows, k, c, a,
			        fmt::format("folder: the pending migrations build this ({}); dbkit migrate applies them", pending));
		else if (!snap->after.empty())  // hand-written migrations after the snapshot explain it
			add_row(rows, k, c, a,
			        fmt::format("folder: {} does not describe what {} build{}", snap->file, snap->after,
			                    snap->after.find(',') == std::string::npos ? "s" : ""));
		else  // the snapshot and its own migrations disagree: the folder's problem, not the database's
			add_row(rows, k, c, a, fmt::format("folder: {} disagrees with what the migrations build", snap->file));
	}
	std::string emitted = emit(out, rows);
	if (!warned)
		store_result(result_key, emitted);
	spi::finish();
	return out.done();
}

// dbkit_drift_schema(sql, options): the live schema against a schema file (the
// output of drizzle-kit export, or hand-written SQL), built by PostgreSQL.
DBKIT_FUNCTION(dbkit_drift_schema) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the schema SQL is null");
	std::string sql = text_arg(fcinfo, 0);
	EngineOptions o = read_engine_options(PG_NARGS() > 1 ? jsonb_arg(fcinfo, 1) : nullptr);
	ResultRows out(fcinfo);
	std::vector<Row> rows;
	core::Migration m = schema_file(sql, o.name);
	spi::connect();
	std::string live_text = live_snapshot();
	auto live = comparable(live_text);
	ShadowOptions against_live = o.shadow;  // the live prints written back onto what the file builds
	against_live.live_snapshot = live_text;
	std::string code_text = code_side({&m}, o.name, against_live);
	// a schema file with no COMMENT statement (drizzle-kit export) says nothing about comments
	auto code = declares_comments(sql) ? comparable(code_text) : comparable(code_text, &live_text);
	leave_out_environment(live, code_text, code);
	std::set<std::string> keys;
	for (const auto *x : {&live, &code})
		for (const auto &[k, v] : *x)
			keys.insert(k);
	for (const std::string &k : keys) {
		auto a = at(live, k), c = at(code, k);
		if (a == c || (a && c && same_when_reprinted(*a, *c, code_text, k)))
			continue;
		add_row(rows, k, c, a, o.name);
		// the schema file, not migrations, says what should be
		std::string &detail = rows.back().d.detail;
		for (auto [said, now] : {std::pair<std::string, std::string>{" exists but no migration created it",
		                                                            " exists but " + o.name + " does not declare it"},
		                         {" was created by the migrations but is gone", " is declared in " + o.name + " but is gone"}})
			if (size_t at = detail.find(said); at != std::string::npos)
				detail.replace(at, said.size(), now);
	}
	emit(out, rows);
	spi::finish();
	return out.done();
}
