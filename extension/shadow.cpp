// The shadow (shadow.hpp). Inside one internal subtransaction, always rolled back:
//   1. every user schema is renamed out of the way (dbkit_shadow_<oid>) and an
//      empty `public` (and drizzle's schema) is created in its place;
//   2. extensions that lived in a renamed schema are moved back under its name
//      when PostgreSQL lets this role relocate them, otherwise the renamed schema
//      joins the search_path and its name is mapped back in the snapshot;
//   3. a lookup by name in pg_catalog or information_schema no longer finds the
//      live objects (shadow_hide.hpp);
//   4. the sources' statements run as the migration would run them, adapted to
//      one transaction: transaction control and statements with no effect on a
//      database's schema are skipped, CONCURRENTLY is dropped, enum values added
//      after CREATE TYPE are folded into it (core/enum_fold.hpp);
//   5. dbkit.snapshot() reads the result.
// Other sessions see none of it (catalog changes are uncommitted); they wait
// only to create objects in a renamed schema, never to read or write rows.
#include "shadow.hpp"

#include <cctype>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "core/enum_fold.hpp"
#include "core/json.hpp"
#include "core/schema_mentions.hpp"
#include "errcodes.hpp"
#include "execute.hpp"
#include "locks.hpp"
#include "parse.hpp"
#include "session_watch.hpp"
#include "shadow_hide.hpp"
#include "shadow_reprint.hpp"
#include "spi.hpp"
#include "subxact.hpp"

extern "C" {
#include "parser/scanner.h"
}

namespace dbkit {
namespace {

struct RenamedSchema {
	std::string name;  // the live name
	std::string oid;
	std::string shadow_name() const { return kShadowSchemaPrefix + oid; }
};

std::string quoted_qualified(List *names) {
	std::string out;
	ListCell *lc;
	foreach (lc, names) {
		if (!out.empty())
			out += '.';
		out += spi::sql_ident(strVal(lfirst(lc)));
	}
	return out;
}

// ("", name) or (schema, name): how a statement names an enum type.
std::pair<std::string, std::string> type_key(List *names) {
	int n = list_length(names);
	std::string name = strVal(llast(names));
	std::string schema = n >= 2 ? strVal(list_nth(names, n - 2)) : "public";
	return {schema, name};
}

// `sql` with the keyword CONCURRENTLY blanked out (same length, so error
// positions still point into the file), found by PostgreSQL's own scanner.
std::string without_concurrently(const std::string &sql) {
	std::string out = sql;
	// Every keyword token is the 12 letters in some case, so their count bounds
	// the tokens found: reserved here, push_back inside the noexcept body below
	// never allocates (an allocation failure there would end the backend).
	std::string lower = sql;
	for (char &c : lower)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	size_t bound = 0;
	for (size_t p = lower.find("concurrently"); p != std::string::npos; p = lower.find("concurrently", p + 1))
		++bound;
	if (bound == 0)
		return out;
	std::vector<int> at;
	at.reserve(bound);
	PgCall([&]() noexcept {
		core_yy_extra_type extra;
		core_yyscan_t scanner = scanner_init(sql.c_str(), &extra, &ScanKeywords, ScanKeywordTokens);
		int kw = ScanKeywordLookup("concurrently", &ScanKeywords);
		int concurrently = kw >= 0 ? ScanKeywordTokens[kw] : -1;
		core_YYSTYPE val;
		YYLTYPE loc;
		for (;;) {
			int tok = core_yylex(&val, &loc, scanner);
			if (tok == 0)
				break;
			if (tok == concurrently && at.size() < at.capacity())  // the keyword, never a quoted "concurrently"
				at.push_back(loc);
		}
		scanner_finish(scanner);
	});
	for (int p : at)
		out.replace(p, 12, std::string(12, ' '));
	return out;
}

// What the shadow does with one statement.
struct Step {
	const core::Migration *m;
	PlannedStatement s;
	Node *tree = nullptr;
	bool skip = false;
	std::optional<std::string> text;  // replaces the statement's text
};

Node *tree_of(std::string_view text) {
	std::string sql(text);
	ErrorData *err = nullptr;
	List *l = raw_parse_noexcept(sql.c_str(), false, &err);
	if (!l || list_length(l) != 1)
		return nullptr;
	return linitial_node(RawStmt, l)->stmt;
}

// Statements with no effect on the database's schema, or on objects outside it
// (roles, databases, tablespaces are the cluster's), or that cannot run in a
// transaction and change nothing a snapshot reads.
bool has_no_schema_effect(Node *n) {
	switch (nodeTag(n)) {
	case T_VacuumStmt:
	case T_ReindexStmt:
	case T_ClusterStmt:
	case T_CheckPointStmt:
	case T_LoadStmt:
	case T_NotifyStmt:
	case T_ListenStmt:
	case T_UnlistenStmt:
	case T_AlterSystemStmt:
	case T_CreatedbStmt:
	case T_DropdbStmt:
	case T_AlterDatabaseStmt:
	case T_AlterDatabaseSetStmt:
	case T_CreateTableSpaceStmt:
	case T_DropTableSpaceStmt:
	case T_AlterTableSpaceOptionsStmt:
	case T_CreateRoleStmt:
	case T_AlterRoleStmt:
	case T_AlterRoleSetStmt:
	case T_DropRoleStmt:
	case T_GrantRoleStmt:
	case T_CreateSubscriptionStmt:
	case T_AlterSubscriptionStmt:
	case T_DropSubscriptionStmt:
	case T_TransactionStmt:
		return true;
	default:
		return false;
	}
}

// Folds ADD VALUE into CREATE TYPE ... AS ENUM where the whole history of the
// type is in the shadow (core/enum_fold.hpp).
void fold_enums(std::vector<Step> &steps) {
	struct Open {
		size_t create;
		List *names;
		std::vector<std::string> labels;
		std::vector<core::EnumAdd> adds;
		std::vector<size_t> add_steps;
		bool in_do = false;  // created in drizzle-kit's DO block (core::enum_in_do_block)
	};
	std::map<std::pair<std::string, std::string>, Open> open;
	std::vector<Open> done;
	auto close = [&](const std::pair<std::string, std::string> &key) {
		auto it = open.find(key);
		if (it != open.end()) {
			done.push_back(std::move(it->second));
			open.erase(it);
		}
	};
	auto open_enum = [&](size_t at, CreateEnumStmt *c, bool in_do) {
		Open o{at, c->typeName, {}, {}, {}, in_do};
		ListCell *lc;
		foreach (lc, c->vals)
			o.labels.push_back(strVal(lfirst(lc)));
		open.emplace(type_key(c->typeName), std::move(o));
	};
	for (size_t i = 0; i < steps.size(); ++i) {
		Node *n = steps[i].tree;
		if (!n || steps[i].skip)
			continue;
		if (IsA(n, CreateEnumStmt)) {
			auto *c = castNode(CreateEnumStmt, n);
			close(type_key(c->typeName));
			open_enum(i, c, false);
		} else if (IsA(n, DoStmt)) {
			// drizzle-kit's DO block around CREATE TYPE ... AS ENUM: the same, except that
			// a repeat of it does nothing (duplicate_object is swallowed)
			std::optional<std::string> inner;
			ListCell *lc;
			foreach (lc, castNode(DoStmt, n)->args) {
				DefElem *d = lfirst_node(DefElem, lc);
				if (strcmp(d->defname, "as") == 0 && d->arg && IsA(d->arg, String))
					inner = core::enum_in_do_block(strVal(d->arg));
			}
			Node *t = inner ? tree_of(*inner) : nullptr;
			if (t && IsA(t, CreateEnumStmt) && !open.count(type_key(castNode(CreateEnumStmt, t)->typeName))) {
				open_enum(i, castNode(CreateEnumStmt, t), true);
				continue;
			}
			// Any other DO block may add values itself (flowglad's 0109: IF the type exists
			// ADD VALUE IF NOT EXISTS 'refunded'): folding a later ADD VALUE ahead of it gave
			// the labels another order than every real run. Its ADD VALUE IF NOT EXISTS is
			// folded in its place (the block then finds the value there); an enum it names
			// otherwise is folded no further.
			std::string body;
			foreach (lc, castNode(DoStmt, n)->args) {
				DefElem *d = lfirst_node(DefElem, lc);
				if (strcmp(d->defname, "as") == 0 && d->arg && IsA(d->arg, String))
					body = strVal(d->arg);
			}
			std::string lower = body;
			for (char &ch : lower)
				ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
			std::set<std::pair<std::string, std::string>> folded_here;
			for (size_t at = lower.find("alter type"); at != std::string::npos; at = lower.find("alter type", at + 1)) {
				size_t end = body.find(';', at);
				Node *a = tree_of(body.substr(at, end == std::string::npos ? std::string::npos : end - at));
				if (!a || !IsA(a, AlterEnumStmt) || castNode(AlterEnumStmt, a)->oldVal)
					continue;
				auto *ae = castNode(AlterEnumStmt, a);
				auto it = open.find(type_key(ae->typeName));
				if (it == open.end() || !ae->skipIfNewValExists)
					continue;
				core::EnumAdd add{ae->newVal, std::nullopt, !ae->newValIsAfter, true};
				if (ae->newValNeighbor)
					add.neighbor = std::string(ae->newValNeighbor);
				it->second.adds.push_back(add);  // the block itself still runs: not skipped
				folded_here.insert(it->first);
			}
			std::vector<std::pair<std::string, std::string>> named;
			for (const auto &[key, o] : open) {
				std::string name = key.second;
				for (char &ch : name)
					ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
				if (!folded_here.count(key) && lower.find(name) != std::string::npos)
					named.push_back(key);
			}
			for (const auto &key : named)
				close(key);
		} else if (IsA(n, AlterEnumStmt)) {
			auto *a = castNode(AlterEnumStmt, n);
			auto key = type_key(a->typeName);
			auto it = open.find(key);
			if (it == open.end())
				continue;
			if (a->oldVal) {  // RENAME VALUE: the rest runs as written
				close(key);
				continue;
			}
			core::EnumAdd add{a->newVal, std::nullopt, !a->newValIsAfter, a->skipIfNewValExists};
			if (a->newValNeighbor)
				add.neighbor = std::string(a->newValNeighbor);
			it->second.adds.push_back(add);
			it->second.add_steps.push_back(i);
		} else if (IsA(n, RenameStmt) && castNode(RenameStmt, n)->renameType == OBJECT_TYPE) {
			auto *r = castNode(RenameStmt, n);
			if (r->object && IsA(r->object, List))
				close(type_key(castNode(List, r->object)));
		} else if (IsA(n, AlterObjectSchemaStmt) && castNode(AlterObjectSchemaStmt, n)->objectType == OBJECT_TYPE) {
			auto *r = castNode(AlterObjectSchemaStmt, n);
			if (r->object && IsA(r->object, List))
				close(type_key(castNode(List, r->object)));
		} else if (IsA(n, DropStmt) && castNode(DropStmt, n)->removeType == OBJECT_TYPE) {
			ListCell *lc;
			foreach (lc, castNode(DropStmt, n)->objects) {
				Node *o = static_cast<Node *>(lfirst(lc));
				if (IsA(o, TypeName))
					close(type_key(castNode(TypeName, o)->names));
			}
		}
	}
	for (auto &[key, o] : open)
		done.push_back(std::move(o));
	for (Open &o : done) {
		if (o.adds.empty())
			continue;
		auto labels = core::fold_enum_labels(o.labels, o.adds);
		if (!labels)
			continue;
		std::string sql = "CREATE TYPE " + quoted_qualified(o.names) + " AS ENUM (";
		for (size_t k = 0; k < labels->size(); ++k) {
			const std::string &l = (*labels)[k];
			sql += (k ? ", " : "") + std::string(PgCall([&]() noexcept { return quote_literal_cstr(l.c_str()); }));
		}
		steps[o.create].text = o.in_do ? "DO $dbkit$ BEGIN " + sql + "); EXCEPTION WHEN duplicate_object THEN null; END $dbkit$"
		                               : sql + ")";
		for (size_t k : o.add_steps)
			steps[k].skip = true;
	}
}

bool extension_exists(const char *name) {
	return PgCall([&]() noexcept { return OidIsValid(get_extension_oid(name, true)); });
}

// The statements of every source, adapted to the shadow's single transaction.
std::vector<Step> plan_steps(const std::vector<const core::Migration *> &sources,
                             const std::set<std::string> &premade_schemas) {
	std::vector<Step> steps;
	for (const core::Migration *m : sources)
		for (PlannedStatement &s : plan_statements(*m)) {
			Step st{m, std::move(s)};
			st.tree = tree_of(st.s.text);
			Node *n = st.tree;
			if (st.s.tx != core::TxKind::None || (n && has_no_schema_effect(n)))
				st.skip = true;
			else if (n && IsA(n, CreateExtensionStmt))
				st.skip = extension_exists(castNode(CreateExtensionStmt, n)->extname);  // the live one is kept
			else if (n && IsA(n, CreateSchemaStmt)) {
				auto *c = castNode(CreateSchemaStmt, n);
				st.skip = c->schemaname && premade_schemas.count(c->schemaname) && c->schemaElts == NIL;
			} else if (st.s.no_transaction)
				st.text = without_concurrently(std::string(st.s.text));
			steps.push_back(std::move(st));
		}
	fold_enums(steps);
	return steps;
}

std::vector<RenamedSchema> live_schemas() {
	spi::execute(
	    "SELECT n.nspname::text, n.oid::text FROM pg_catalog.pg_namespace n "
	    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit') "
	    "AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' "
	    "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass "
	    "AND d.objid = n.oid AND d.deptype = 'e') ORDER BY n.oid");
	std::vector<RenamedSchema> out;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		out.push_back({*spi::get_text(i, 1), *spi::get_text(i, 2)});
	return out;
}

// drizzle's schema and table the newest reference names (drizzle.__drizzle_migrations without one).
struct DrizzleTable {
	std::string schema, table;
};
DrizzleTable drizzle_table() {
	spi::execute("SELECT coalesce(f ->> 'drizzle_schema', 'drizzle'), coalesce(f ->> 'drizzle_table', '__drizzle_migrations') "
	             "FROM (SELECT dbkit._reference_format() AS f) x");
	return {spi::get_text(0, 1).value_or("drizzle"), spi::get_text(0, 2).value_or("__drizzle_migrations")};
}

// drizzle's table, as drizzle's migrator makes it before running any migration, when
// it exists live: a migration may read or clean it (ding113/claude-code-hub's 0020
// deletes from it). Every snapshot leaves it out, as it does live.
void create_drizzle_table(const DrizzleTable &dz, const std::vector<RenamedSchema> &renamed) {
	for (const RenamedSchema &r : renamed) {
		if (r.name != dz.schema)
			continue;
		spi::execute("SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		             "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'r'",
		             {spi::text(r.shadow_name()), spi::text(dz.table)});
		if (spi::rows() == 1)
			spi::execute(fmt::format("CREATE TABLE {}.{} (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)",
			                         spi::sql_ident(dz.schema), spi::sql_ident(dz.table))
			                 .c_str());
	}
}

// A statement that makes drizzle's table, its id sequence or their key and default
// (a pg_dump -s of a database drizzle or dbkit migrated holds them): the shadow has
// made the table as drizzle's migrator does, and every snapshot leaves it out.
bool about_drizzle_table(Node *n, const DrizzleTable &dz) {
	auto ours = [&](const RangeVar *rv) {
		return rv && rv->schemaname && dz.schema == rv->schemaname && rv->relname &&
		       (dz.table == rv->relname || dz.table + "_id_seq" == rv->relname);
	};
	if (!n)
		return false;
	switch (nodeTag(n)) {
	case T_CreateStmt: return ours(castNode(CreateStmt, n)->relation);
	case T_CreateSeqStmt: return ours(castNode(CreateSeqStmt, n)->sequence);
	case T_AlterSeqStmt: return ours(castNode(AlterSeqStmt, n)->sequence);
	case T_AlterTableStmt: return ours(castNode(AlterTableStmt, n)->relation);
	default: return false;
	}
}

// `text` with every shadow name of a renamed schema put back (JSON text: the
// quoted form of a name needing quotes is escaped).
std::string map_names_back(std::string text, const std::vector<RenamedSchema> &renamed) {
	for (const RenamedSchema &r : renamed) {
		std::string from = r.shadow_name() + ".";
		std::string to = spi::sql_ident(r.name);
		std::string escaped;
		for (char c : to)
			escaped += c == '"' ? std::string("\\\"") : std::string(1, c);
		escaped += ".";
		for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + escaped.size()))
			text.replace(at, from.size(), escaped);
		// the whole name as a JSON string value (an extension's "schema")
		std::string whole = "\"" + r.shadow_name() + "\"", back = core::json_quote(r.name);
		for (size_t at = text.find(whole); at != std::string::npos; at = text.find(whole, at + back.size()))
			text.replace(at, whole.size(), back);
	}
	return text;
}

// in_sources: the error is a source statement's (the rename and the set-up are done)
PgError in_shadow(const PgError &e, bool in_sources, const std::vector<RenamedSchema> &renamed,
                  bool stand_ins_active) {
	ErrorData *d = e.edata();
	// a schema the sources use but never create, which exists live: the environment's
	// (a platform's, as Supabase's auth), not something to fix in the statement
	std::string environment;
	if (in_sources && d->sqlerrcode == ERRCODE_UNDEFINED_SCHEMA && d->message)
		for (const RenamedSchema &r : renamed)
			if (std::string_view(d->message).find("\"" + r.name + "\"") != std::string_view::npos)
				environment = r.name;
	std::string msg = fmt::format("the shadow could not build the desired schema: {}", d->message ? d->message : "");
	d->message = pstrdup(msg.c_str());
	std::string hint =
	    "The shadow runs the statements in order on an empty schema, in a transaction that is always rolled back "
	    "(nothing was changed). Fix the statement named above, or the object it needs that nothing creates.";
	if (d->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		hint = "Another session holds a lock on a schema the shadow renames for a moment (a transaction creating "
		       "objects there is open). Nothing was changed: try again, or raise --lock-timeout.";
	else if (d->sqlerrcode == ERRCODE_OUT_OF_MEMORY && d->hint && strstr(d->hint, "max_locks_per_transaction"))
		hint = "Nothing in the sources needs fixing: the shadow builds them all in one transaction, which holds a lock "
		       "on every object it makes until it ends, and the server's lock table (max_locks_per_transaction x "
		       "max_connections) is smaller than that. Raise max_locks_per_transaction (a server restart). Nothing "
		       "was changed; dbkit drift (against the reference recorded at each migrate) still watches this "
		       "database.";
	else if (in_sources && d->sqlerrcode == ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE)
		hint = "Nothing in the sources needs fixing: they apply, each migration committing before the next. The "
		       "shadow builds them all in one transaction, where PostgreSQL refuses a value ALTER TYPE ... ADD VALUE "
		       "added until it commits; dbkit folds such values into the type's CREATE TYPE, but cannot when the "
		       "type is created inside a DO block (as older drizzle-kit versions wrote it). So the code's side "
		       "cannot be built for this folder; nothing was changed, and dbkit drift (against the reference "
		       "recorded at each migrate) still watches this database. A CREATE TYPE outside its DO block lets "
		       "the shadow fold the value.";
	else if (stand_ins_active && d->sqlerrcode == ERRCODE_INVALID_TABLE_DEFINITION)
		hint = "Inside DO blocks the shadow stands in for pg_catalog's names (and information_schema) with views "
		       "that hide the live schema, so that an existence check sees only what the migrations built; an "
		       "object made over one of them there is temporary. Create it outside the DO block, or qualify the "
		       "catalog (pg_catalog.pg_class) inside it. Nothing was changed.";
	else if (!environment.empty())
		hint = fmt::format(
		    "Schema {} exists in this database, but none of the sources creates it: it comes from the environment "
		    "(a platform's schema, such as Supabase's auth or storage, or one made by hand). The shadow builds "
		    "from an empty database, so it cannot build these sources; nothing was changed. dbkit drift (against "
		    "the reference recorded at each migrate) still watches this database.",
		    spi::sql_ident(environment));
	else if (d->sqlerrcode == ERRCODE_READ_ONLY_SQL_TRANSACTION)
		hint = "The shadow builds in a transaction that is always rolled back, but a hot standby (or a read-only "
		       "transaction) cannot even do that. Run dbkit drift --dir once against the primary: the code's side it "
		       "builds is kept in dbkit.code_schemas, which a standby replicates and reads from then on. Nothing was "
		       "changed.";
	else if (d->sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE && !in_sources)
		hint = "The shadow renames the live schemas inside a transaction that is rolled back, and needs the rights to "
		       "do so: run it as the role that owns the schemas (the deployer) or the database owner. Nothing was "
		       "changed. For dbkit drift --dir, one run by the deployer is enough: the code's side it builds is "
		       "kept in dbkit.code_schemas, which every role reads, so a monitoring role's polls need no rights.";
	d->hint = pstrdup(hint.c_str());
	return e;
}

}  // namespace

std::vector<PlannedStatement> in_transaction_equivalent(const std::vector<PlannedStatement> &stmts,
                                                        std::deque<std::string> &texts) {
	std::vector<PlannedStatement> out;
	for (const PlannedStatement &s : stmts) {
		Node *n = tree_of(s.text);
		if (s.tx != core::TxKind::None || (n && has_no_schema_effect(n)))
			continue;
		PlannedStatement t = s;
		if (s.no_transaction) {
			texts.push_back(without_concurrently(std::string(s.text)));
			t.text = texts.back();
			t.no_transaction = false;
		}
		out.push_back(std::move(t));
	}
	return out;
}

namespace {

// A schema of the environment (one the sources use but never create, that exists
// live: Supabase's auth) stands in the shadow as a copy of its live one, renamed
// aside as `shadow`: of the objects the sources use there (`only`; every object when
// PostgreSQL found the schema missing in a statement the sources' text hides, as
// dynamic SQL), its enums, its tables (columns, NOT NULL, identity, primary and
// unique keys), its views (typed and empty) and its functions' and procedures'
// signatures, with empty bodies. Nothing of the copy runs the platform's code: a
// build runs as whoever builds it (a superuser's drift --dir, generate in CI), and
// a default, a CHECK, a generated column, an index expression, a view or a domain's
// CHECK would call the platform owner's functions with those rights. So a default
// is kept only when it calls nothing but a few of pg_catalog's functions, a domain
// column takes its base type, and CHECKs, expression indexes, triggers, policies and
// foreign keys are left out. Enough for what the sources do with it: a foreign key
// to auth.users, auth.uid() in a policy, a trigger on auth.users. What cannot be
// copied is left out; a source statement that needs it then fails with its own error.
void make_stand_in(const std::string &name, const std::string &shadow, const std::set<std::string> &made_by_sources,
                   const std::optional<std::set<std::string>> &only) {
	spi::execute(fmt::format("CREATE SCHEMA {}", spi::sql_ident(name)).c_str());
	if (only && only->empty())
		return;
	// a column's type without a domain's CHECK; a default that runs no one's code
	static const char *kColumnType =
	    "CASE WHEN ty.typtype = 'd' THEN pg_catalog.format_type(ty.typbasetype, ty.typtypmod) "
	    "ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END";
	static const char *kSafeDefault =
	    "(NOT EXISTS (SELECT 1 FROM pg_catalog.regexp_matches(pg_catalog.pg_get_expr(d.adbin, d.adrelid), "
	    "   '([A-Za-z_][A-Za-z_0-9$]*)\\s*\\(', 'g') f WHERE pg_catalog.lower(f[1]) <> ALL (ARRAY['now', "
	    "   'gen_random_uuid', 'timezone', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', "
	    "   'random', 'jsonb_build_object', 'jsonb_build_array', 'json_build_object', 'json_build_array', 'array', "
	    "   'lower', 'upper', 'date_trunc', 'make_interval', 'text', 'int2', 'int4', 'int8', 'numeric', 'bool', "
	    "   'float4', 'float8', 'varchar', 'bpchar', 'timestamptz', 'timestamp', 'date', 'interval', 'uuid', "
	    "   'jsonb', 'json', 'bytea']::text[])) "
	    " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend dep WHERE dep.classid = "
	    "   'pg_catalog.pg_attrdef'::pg_catalog.regclass AND dep.objid = d.oid AND NOT ("
	    "   (dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dep.refobjid = c.oid) "
	    "   OR dep.refclassid = 'pg_catalog.pg_collation'::pg_catalog.regclass "
	    "   OR (dep.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND NOT EXISTS (SELECT 1 FROM "
	    "       pg_catalog.pg_type dt WHERE dt.oid = dep.refobjid AND dt.typtype = 'd')))))";
	std::string sql = fmt::format(
	    "SELECT x.ddl, x.name FROM ("
	    " SELECT 1 AS o, t.oid AS k, 0 AS s, t.typname::text AS name, pg_catalog.format('CREATE TYPE %I.%I AS ENUM (%s)', $1, t.typname, "
	    "   (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
	    "      FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)) AS ddl "
	    " FROM pg_catalog.pg_type t WHERE t.typnamespace = $2::pg_catalog.oid AND t.typtype = 'e' "
	    " UNION ALL "
	    " SELECT 2, c.oid, 0, c.relname::text, pg_catalog.format('CREATE TABLE %I.%I (%s)', $1, c.relname, "
	    "   (SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname, {type}) "
	    "      OPERATOR(pg_catalog.||) CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY' "
	    "        WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END "
	    "      OPERATOR(pg_catalog.||) CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END "
	    "      OPERATOR(pg_catalog.||) coalesce((SELECT ' DEFAULT ' OPERATOR(pg_catalog.||) pg_catalog.pg_get_expr(d.adbin, d.adrelid) "
	    "        FROM pg_catalog.pg_attrdef d WHERE d.adrelid = c.oid AND d.adnum = a.attnum AND a.attgenerated = '' "
	    "        AND a.attidentity = '' AND {safe}), ''), ', ' ORDER BY a.attnum) "
	    "    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
	    "    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)) "
	    " FROM pg_catalog.pg_class c WHERE c.relnamespace = $2::pg_catalog.oid AND c.relkind IN ('r', 'p') "
	    " UNION ALL "
	    " SELECT 2, c.oid, 1, c.relname::text, pg_catalog.format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1, c.relname, "
	    "   con.conname, pg_catalog.pg_get_constraintdef(con.oid)) "
	    " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_constraint con ON con.conrelid = c.oid AND con.contype IN ('p', 'u') "
	    " WHERE c.relnamespace = $2::pg_catalog.oid AND c.relkind IN ('r', 'p') "
	    " UNION ALL "
	    " SELECT 3, c.oid, 0, c.relname::text, pg_catalog.format('CREATE VIEW %I.%I AS SELECT %s WHERE false', $1, c.relname, "
	    "   (SELECT pg_catalog.string_agg(pg_catalog.format('NULL::%s AS %I', {type}, a.attname), ', ' ORDER BY a.attnum) "
	    "    FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid "
	    "    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)) "
	    " FROM pg_catalog.pg_class c WHERE c.relnamespace = $2::pg_catalog.oid AND c.relkind IN ('v', 'm') "
	    " UNION ALL "
	    " SELECT 4, p.oid, 0, p.proname::text, CASE WHEN p.prokind = 'p' "
	    "   THEN pg_catalog.format('CREATE PROCEDURE %I.%I(%s) LANGUAGE plpgsql AS ''BEGIN END''', $1, p.proname, "
	    "          pg_catalog.pg_get_function_arguments(p.oid)) "
	    "   ELSE pg_catalog.format('CREATE FUNCTION %I.%I(%s) RETURNS %s LANGUAGE plpgsql %s AS %L', $1, p.proname, "
	    "          pg_catalog.pg_get_function_arguments(p.oid), "
	    "          CASE WHEN rt.typtype = 'd' AND NOT p.proretset THEN pg_catalog.format_type(rt.typbasetype, rt.typtypmod) "
	    "               ELSE pg_catalog.pg_get_function_result(p.oid) END, "
	    "          CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END, "
	    "          CASE WHEN p.proretset OR p.proallargtypes IS NOT NULL THEN 'BEGIN RETURN; END' "
	    "               ELSE 'BEGIN RETURN NULL; END' END) END "
	    " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_type rt ON rt.oid = p.prorettype "
	    " WHERE p.pronamespace = $2::pg_catalog.oid AND p.prokind IN ('f', 'p') "
	    ") x WHERE $4::pg_catalog.text[] IS NULL OR x.name = ANY ($4::pg_catalog.text[]) ORDER BY x.o, x.k, x.s",
	    fmt::arg("type", kColumnType), fmt::arg("safe", kSafeDefault));
	std::optional<std::string> only_array;
	if (only) {
		std::string a = "{";
		for (const std::string &n : *only)
			a += (a.size() > 1 ? "," : "") + core::json_quote(n);  // a quoted array element
		only_array = a + "}";
	}
	spi::execute(sql.c_str(), {spi::text(name), spi::text(shadow.substr(strlen(kShadowSchemaPrefix))),
	                           spi::text(shadow), spi::text_or_null(only_array)});
	std::vector<std::string> ddl;
	for (uint64_t i = 0; i < spi::rows(); ++i)  // what the sources make there themselves is theirs
		if (auto d = spi::get_text(i, 1); d && !made_by_sources.count(spi::get_text(i, 2).value_or("")))
			ddl.push_back(*d);
	// function bodies may name what is copied after them
	spi::execute("SELECT pg_catalog.current_setting('check_function_bodies'), "
	             "pg_catalog.set_config('check_function_bodies', 'off', true)");
	std::string checks = spi::get_text(0, 1).value_or("on");
	for (const std::string &d : ddl) {
		Subxact one;
		try {
			spi::execute(d.c_str());
			one.commit();
		} catch (const PgError &) {
			one.rollback();  // left out: a statement that needs it fails on its own
		}
	}
	spi::execute("SELECT pg_catalog.set_config('check_function_bodies', $1, true)", {spi::text(checks)});
}

// dbkit.snapshot() of what was built, without the renamed live schemas' objects: those
// whose name starts with one, and the live default privileges of one (ALTER DEFAULT
// PRIVILEGES IN SCHEMA public: "default_privileges:<role> in dbkit_shadow_2200 on
// tables", the schema last but for the kind; the built public has its own).
class CatalogSnapshot : public ShadowReader {
public:
	std::string read() override {
		// and without what the stand-ins of the environment's schemas copied; their names
		// go with the snapshot, so that the live side leaves out what only they hold
		// ("environment_keys": what the platform holds live there and the sources did not build)
		spi::execute(
		    "WITH s AS MATERIALIZED (SELECT key, value FROM pg_catalog.jsonb_each(dbkit.snapshot()) "
		    "  WHERE substr(key, strpos(key, ':') + 1) NOT LIKE 'dbkit\\_shadow\\_%' "
		    "  AND key !~ '^default_privileges:.* in dbkit_shadow_[0-9]+ on [a-z]+$' "
		    "  AND NOT $2::pg_catalog.jsonb ? key), "
		    "platform AS (SELECT coalesce(pg_catalog.jsonb_agg(u.k ORDER BY u.k), '[]') AS keys FROM ("
		    "  SELECT pg_catalog.jsonb_array_elements_text($2::pg_catalog.jsonb) AS k UNION "
		    "  SELECT p FROM pg_catalog.jsonb_array_elements_text($3::pg_catalog.jsonb) p "
		    "  WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.key = p)) u) "
		    "SELECT coalesce(pg_catalog.jsonb_object_agg(key, CASE WHEN key = 'dbkit:format' "
		    "  AND pg_catalog.jsonb_array_length($1::pg_catalog.jsonb) > 0 "
		    "  THEN value || pg_catalog.jsonb_build_object('environment_schemas', (SELECT pg_catalog.jsonb_agg("
		    "    pg_catalog.quote_ident(x)) FROM pg_catalog.jsonb_array_elements_text($1::pg_catalog.jsonb) x), "
		    "    'environment_keys', (SELECT keys FROM platform)) ELSE value END), "
		    "  '{}')::text FROM s",
		    {spi::text(environment), spi::text(environment_keys), spi::text(platform_keys)});
		return with_reprints(spi::get_text(0, 1).value_or("{}"), other_side);
	}
};

}  // namespace

std::string shadow_snapshot(const std::vector<const core::Migration *> &sources, const ShadowOptions &opts) {
	CatalogSnapshot reader;
	return shadow_read(sources, opts, reader);
}

namespace {

// One build of the shadow with stand-ins for `environment`. `needs` is set, and
// nothing returned, when a source statement named a live schema that is neither
// built nor stood in for: the caller builds again with a stand-in for it.
std::string shadow_attempt(const std::vector<const core::Migration *> &sources, const ShadowOptions &opts,
                           ShadowReader &reader, const std::set<std::string> &environment,
                           const std::set<std::string> &found_missing, const core::SchemaMentions &mentions,
                           std::optional<std::string> &needs) {
	std::string snapshot;
	const DrizzleTable dz = drizzle_table();
	const std::string &drizzle = dz.schema;
	std::exception_ptr failed;
	std::vector<RenamedSchema> renamed;
	bool in_sources = false, stand_ins_active = false;
	Subxact sx;  // rolled back in every case
	try {
		set_local_timeouts(opts.lock_timeout_ms, opts.statement_timeout_ms);
		renamed = live_schemas();
		// Schemas of the environment, not of the code, are there empty as they are
		// live: public, drizzle's, and those extensions were installed in (dbkit's too).
		std::set<std::string> premade = {"public", drizzle};
		spi::execute("SELECT DISTINCT n.nspname::text FROM pg_catalog.pg_extension e "
		              "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace");
		for (uint64_t i = 0; i < spi::rows(); ++i)
			premade.insert(*spi::get_text(i, 1));
		// what the environment's schemas hold live, under their names, before they are renamed
		reader.platform_keys = "[]";
		{
			std::string env_names = "{";
			for (const RenamedSchema &r : renamed)
				if (environment.count(r.name) && !premade.count(r.name))
					env_names += (env_names.size() > 1 ? "," : "") + core::json_quote(r.name);
			env_names += "}";
			if (env_names != "{}") {
				spi::execute(
				    "SELECT coalesce(pg_catalog.jsonb_agg(DISTINCT e.key), '[]')::text FROM dbkit._snapshot_entries_of($1, $2, "
				    "ARRAY(SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY ($3::pg_catalog.text[]) "
				    "UNION ALL SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
				    "  WHERE n.nspname = ANY ($3::pg_catalog.text[]) "
				    "UNION ALL SELECT t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
				    "  WHERE n.nspname = ANY ($3::pg_catalog.text[]) "
				    "UNION ALL SELECT p.oid FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
				    "  WHERE n.nspname = ANY ($3::pg_catalog.text[]))) e",
				    {spi::text(dz.schema), spi::text(dz.table), spi::text(env_names)});
				reader.platform_keys = spi::get_text(0, 1).value_or("[]");
			}
		}
		for (const RenamedSchema &r : renamed)
			spi::execute(fmt::format("ALTER SCHEMA {} RENAME TO {}", spi::sql_ident(r.name), r.shadow_name()).c_str());
		for (auto it = premade.begin(); it != premade.end();) {  // only those that exist live (public always)
			bool live = *it == "public";
			for (const RenamedSchema &r : renamed)
				live |= r.name == *it;
			it = live ? std::next(it) : premade.erase(it);
		}
		for (const std::string &name : premade)
			spi::execute(fmt::format("CREATE SCHEMA {}", spi::sql_ident(name)).c_str());
		create_drizzle_table(dz, renamed);
		// ... with the live one's comment ("standard public schema"): the environment's, not the code's
		for (const RenamedSchema &r : renamed) {
			if (!premade.count(r.name))
				continue;
			spi::execute(
			    "SELECT pg_catalog.format('COMMENT ON SCHEMA %I IS %L', $1, d.description) FROM pg_catalog.pg_description d "
			    "WHERE d.objoid = $2::pg_catalog.oid AND d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass "
			    "AND d.objsubid = 0",
			    {spi::text(r.name), spi::text(r.oid)});
			if (spi::rows()) {
				std::string comment = *spi::get_text(0, 1);
				spi::execute(comment.c_str());
			}
		}
		// Extensions of the renamed schemas: back under their schema's name if this role may.
		spi::execute(
		    "SELECT e.extname::text, n.nspname::text, substr(n.nspname, $1)::text FROM pg_catalog.pg_extension e "
		    "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
		    "WHERE n.nspname LIKE 'dbkit\\_shadow\\_%' AND e.extname <> 'dbkit' AND e.extrelocatable",
		    {spi::int4(int32_t(strlen(kShadowSchemaPrefix) + 1))});
		std::vector<std::pair<std::string, std::string>> exts;  // extension, live schema name
		for (uint64_t i = 0; i < spi::rows(); ++i) {
			std::string oid = *spi::get_text(i, 3);
			for (const RenamedSchema &r : renamed)
				if (r.oid == oid)
					exts.emplace_back(*spi::get_text(i, 1), r.name);
		}
		for (const auto &[ext, schema] : exts) {
			Subxact move;
			try {
				if (!premade.count(schema))
					spi::execute(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", spi::sql_ident(schema)).c_str());
				spi::execute(
				    fmt::format("ALTER EXTENSION {} SET SCHEMA {}", spi::sql_ident(ext), spi::sql_ident(schema)).c_str());
				move.commit();
			} catch (const PgError &) {
				// not this role's to move: its objects stay in the renamed schema, which is on no
				// search_path (a path to the live schemas would run their owners' functions and
				// operators in this build, as whoever builds it: a superuser's drift --dir)
				move.rollback();
			}
		}
		// Schemas of the environment the sources use but never create: a copy of the live
		// one each, whose objects are then not the code's
		std::string env_json = "[";
		for (const RenamedSchema &r : renamed)
			if (environment.count(r.name) && !premade.count(r.name)) {
				auto made = mentions.objects.find(r.name);
				// what the sources use there; all of it when only PostgreSQL found the schema used
				// (a name the sources' text hides); nothing when they never name it (listed by the
				// setting, or named by a pending migration only)
				std::optional<std::set<std::string>> only;
				if (!found_missing.count(r.name))
					only = core::used_not_made(mentions, r.name);
				make_stand_in(r.name, r.shadow_name(), made == mentions.objects.end() ? std::set<std::string>() : made->second,
				              only);
				env_json += (env_json.size() > 1 ? ", " : "") + core::json_quote(r.name);
			}
		env_json += "]";
		reader.environment = env_json;
		reader.environment_keys = "[]";
		if (env_json != "[]") {
			spi::execute("SELECT coalesce(pg_catalog.jsonb_agg(key), '[]')::text FROM pg_catalog.jsonb_each(dbkit.snapshot()) "
			             "WHERE dbkit._key_in_schemas(key, $1::pg_catalog.jsonb)",
			             {spi::text(env_json)});
			reader.environment_keys = spi::get_text(0, 1).value_or("[]");
		}
		// ... while a lookup by name in the catalogs finds only what the sources build
		std::vector<std::string> renamed_oids;
		for (const RenamedSchema &r : renamed)
			renamed_oids.push_back(r.oid);
		LookupStandIns stand_ins(sources, renamed_oids);

		in_sources = true;
		std::vector<Step> steps = plan_steps(sources, premade);
		for (Step &st : steps)
			st.skip = st.skip || about_drizzle_table(st.tree, dz);
		const core::Migration *current = nullptr;
		std::optional<SessionWatch> watch;
		for (Step &st : steps) {
			if (st.m != current) {
				if (current && watch)
					watch->check(*current);
				current = st.m;
				watch.emplace();
			}
			if (st.skip)
				continue;
			PlannedStatement s = st.s;
			if (st.text)
				s.text = *st.text;
			stand_ins.before(st.tree, s.text);
			stand_ins_active = stand_ins.active();
			run_statements(*st.m, {s}, &*watch);
			reader.after_statement(st.tree, s.text);
		}
		if (current && watch)
			watch->check(*current);
		stand_ins.finish();
		stand_ins_active = false;
		snapshot = reader.read();  // the renamed live schemas are not part of what was built
	} catch (const PgError &e) {
		ErrorData *d = e.edata();
		if (in_sources && d->sqlerrcode == ERRCODE_UNDEFINED_SCHEMA && d->message)
			for (const RenamedSchema &r : renamed)
				if (!environment.count(r.name) &&
				    std::string_view(d->message).find("\"" + r.name + "\"") != std::string_view::npos)
					needs = r.name;
		if (!needs)
			failed = std::make_exception_ptr(in_shadow(e, in_sources, renamed, stand_ins_active));
	} catch (...) {
		failed = std::current_exception();
	}
	sx.rollback();
	if (failed)
		std::rethrow_exception(failed);
	if (needs)
		return {};
	return map_names_back(std::move(snapshot), renamed);
}

}  // namespace

namespace {
char *g_environment_schemas = nullptr;
}

void define_shadow_settings() {
	DefineCustomStringVariable(
	    "dbkit.environment_schemas",
	    "Schemas of the environment (a platform's: storage, realtime, ...) that the shadow stands in for.",
	    "Comma-separated names. A schema the sources use but never create is found by itself; one they never "
	    "mention is listed here so that drift against the code and push leave out what only it holds.",
	    &g_environment_schemas, "", PGC_USERSET, 0, NULL, NULL, NULL);
}

std::string shadow_read(const std::vector<const core::Migration *> &sources, const ShadowOptions &opts,
                        ShadowReader &reader) {
	// listed by the database's setting (ALTER DATABASE ... SET dbkit.environment_schemas), and
	// found by PostgreSQL: a source statement naming a live schema the sources never create
	// Names as PostgreSQL reads an identifier (search_path's rules): unquoted folded to lower
	// case, "Quoted" kept; one that names no schema here is said (it protects nothing).
	std::set<std::string> environment;
	spi::execute("SELECT n.name, EXISTS (SELECT 1 FROM pg_catalog.pg_namespace s WHERE s.nspname = n.name) "
	             "FROM (SELECT (pg_catalog.parse_ident(pg_catalog.btrim(x), false))[1] AS name "
	             "  FROM pg_catalog.unnest(pg_catalog.string_to_array("
	             "  pg_catalog.current_setting('dbkit.environment_schemas', true), ',')) x "
	             "  WHERE pg_catalog.btrim(x) <> '') n");
	std::vector<std::string> unknown;
	for (uint64_t i = 0; i < spi::rows(); ++i) {
		std::string name = spi::get_text(i, 1).value_or("");
		environment.insert(name);
		if (spi::get_text(i, 2) != std::optional<std::string>("t"))
			unknown.push_back(name);
	}
	for (const std::string &name : unknown) {
		std::string msg = fmt::format("dbkit.environment_schemas names {}, and no schema here is called that",
		                              spi::sql_ident(name));
		PgCall([&]() noexcept {
			ereport(WARNING, (errmsg("%s", msg.c_str()),
			                  errhint("Spell it as an identifier in SQL: unquoted names are folded to lower case, "
			                          "\"Quoted\" ones are kept as written (ALTER DATABASE ... SET "
			                          "dbkit.environment_schemas = 'storage, \"Realtime\"').")));
		});
	}
	// ... and named by the sources (x.y) but never created by them (CREATE SCHEMA x), or by
	// the caller's wider sources (drift --dir: the pending migrations too). Only a schema
	// that exists live is stood in for; the round after a 3F000 catches what this misses.
	core::SchemaMentions mentions;
	for (const core::Migration *m : sources)
		core::add_schema_mentions(m->sql, mentions);
	for (const std::string &name : mentions.named)
		environment.insert(name);
	environment.insert(opts.environment.begin(), opts.environment.end());
	// What the sources create is theirs, listed or not; but CREATE SCHEMA IF NOT EXISTS auth
	// before using auth.users, which they never create, guards a platform's schema (a no-op
	// where it exists): that one is still the environment's
	for (const std::string &name : mentions.created)
		if (!mentions.created_if_absent.count(name) || core::used_not_made(mentions, name).empty())
			environment.erase(name);
	reader.other_side = opts.live_snapshot;
	std::set<std::string> found_missing;  // schemas PostgreSQL found a statement needs
	for (;;) {  // ends: each round stands in for one more live schema, or returns
		std::optional<std::string> needs;
		std::string snapshot = shadow_attempt(sources, opts, reader, environment, found_missing, mentions, needs);
		if (!needs)
			return snapshot;
		environment.insert(*needs);
		found_missing.insert(*needs);
		reader.restart();
	}
}

}  // namespace dbkit
