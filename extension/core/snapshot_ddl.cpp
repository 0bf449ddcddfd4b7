#include "snapshot_ddl.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace dbkit::core {

namespace {

using Kind = JsonValue::Kind;

// A field that cannot be turned into DDL: its path and why. Thrown inside this
// file only; snapshot_to_ddl turns it into `error`.
struct Bad {
	std::string path, why;
};

[[noreturn]] void bad(const std::string &path, const std::string &why) { throw Bad{path, why}; }

// "tables.public.users" + "columns" (a member of the root has no leading dot)
std::string member_path(const std::string &path, const char *key) { return path.empty() ? key : path + "." + key; }

bool present(const JsonValue *v) { return v && v->kind != Kind::Null; }

// A number as JavaScript's String() writes it (drizzle-kit pastes numbers into SQL that way).
std::string number_text(const JsonValue &v) {
	if (v.is_integer)
		return std::to_string(v.integer);
	if (std::isfinite(v.number) && v.number == std::floor(v.number) && std::fabs(v.number) < 1e15) {
		char buf[32];
		std::snprintf(buf, sizeof buf, "%.0f", v.number);
		return buf;
	}
	char buf[40];
	for (int p = 1; p <= 17; ++p) {
		std::snprintf(buf, sizeof buf, "%.*g", p, v.number);
		if (std::strtod(buf, nullptr) == v.number)
			break;
	}
	return buf;
}

// A scalar's text: strings as they are, numbers and booleans as JavaScript prints them; "" for null/absent.
std::string scalar(const JsonValue *v, const std::string &path) {
	if (!v)
		return "";
	switch (v->kind) {
	case Kind::Null: return "";
	case Kind::String: return v->string;
	case Kind::Bool: return v->boolean ? "true" : "false";
	case Kind::Number: return number_text(*v);
	default: bad(path, std::string("must be a string, a number or a boolean, not ") + JsonValue::kind_name(v->kind));
	}
}

// What JavaScript's `x ? ... : ""` would print: the text of a truthy scalar, else "".
std::string truthy_text(const JsonValue *v, const std::string &path) {
	if (!present(v))
		return "";
	if (v->kind == Kind::Bool)
		return v->boolean ? "true" : "";
	if (v->kind == Kind::Number && v->number == 0 && v->integer == 0)
		return "";
	return scalar(v, path);
}

bool flag(const JsonValue *v) { return v && v->kind == Kind::Bool && v->boolean; }

std::string req_str(const JsonValue &o, const char *key, const std::string &path) {
	const JsonValue *v = o.find(key);
	std::string p = member_path(path, key);
	if (!present(v))
		bad(p, "is missing");
	if (v->kind != Kind::String)
		bad(p, std::string("must be a string, not ") + JsonValue::kind_name(v->kind));
	if (v->string.empty())
		bad(p, "is empty");
	return v->string;
}

std::string opt_str(const JsonValue &o, const char *key, const std::string &path) {
	return scalar(o.find(key), member_path(path, key));
}

// A member that must be an object when present (absent or null: nullptr).
const JsonValue *opt_obj(const JsonValue &o, const char *key, const std::string &path) {
	const JsonValue *v = o.find(key);
	if (!present(v))
		return nullptr;
	if (v->kind != Kind::Object)
		bad(member_path(path, key), std::string("must be an object, not ") + JsonValue::kind_name(v->kind));
	return v;
}

const JsonValue &req_obj(const JsonValue &v, const std::string &path) {
	if (v.kind != Kind::Object)
		bad(path, std::string("must be an object, not ") + JsonValue::kind_name(v.kind));
	return v;
}

std::vector<std::string> str_list(const JsonValue &o, const char *key, const std::string &path, bool required) {
	const JsonValue *v = o.find(key);
	std::string p = member_path(path, key);
	std::vector<std::string> out;
	if (!present(v)) {
		if (required)
			bad(p, "is missing");
		return out;
	}
	if (v->kind != Kind::Array)
		bad(p, std::string("must be an array, not ") + JsonValue::kind_name(v->kind));
	for (size_t i = 0; i < v->items.size(); ++i) {
		if (v->items[i].kind != Kind::String)
			bad(p + "[" + std::to_string(i) + "]", "must be a string");
		out.push_back(v->items[i].string);
	}
	if (required && out.empty())
		bad(p, "is empty");
	return out;
}

std::string upper(std::string s) {
	for (auto &c : s)
		c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
	return s;
}
std::string lower(std::string s) {
	for (auto &c : s)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	return s;
}

// A json or jsonb column's default as drizzle-kit's snapshot holds a string value:
// jsonb("c").default("none") is "'none'" in the snapshot but '"none"'::jsonb in the
// migration (lmnr-ai/lmnr). A plain literal whose text is not JSON is that string as
// JSON; anything else (valid JSON, an expression, a cast) is left as it is.
std::string json_column_default(const std::string &type, const std::string &def) {
	std::string t = lower(type);
	if ((t != "json" && t != "jsonb") || def.size() < 2 || def.front() != '\'' || def.back() != '\'')
		return def;
	std::string text;
	for (size_t i = 1; i + 1 < def.size(); ++i) {
		if (def[i] == '\'') {
			if (def[i + 1] != '\'' || i + 2 >= def.size())
				return def;  // not one literal ('a' || 'b')
			++i;
		}
		text += def[i];
	}
	JsonValue v;
	JsonError err;
	if (parse_json(text, v, err))
		return def;
	std::string quoted;
	for (char ch : json_quote(text))
		quoted += ch == '\'' ? std::string("''") : std::string(1, ch);
	return "'" + quoted + "'::" + t;
}

bool starts_with(const std::string &s, const std::string &p) { return s.rfind(p, 0) == 0; }

std::string qname(const std::string &schema, const std::string &name) {
	return ddl_ident(schema.empty() ? "public" : schema) + "." + ddl_ident(name);
}

std::string ident_list(const std::vector<std::string> &names, const char *sep = ",") {
	std::string out;
	for (const auto &n : names)
		out += (out.empty() ? "" : sep) + ddl_ident(n);
	return out;
}

std::string sql_literal(const std::string &s) {
	std::string out = "'";
	for (char c : s)
		out += c == '\'' ? std::string("''") : std::string(1, c);
	return out + "'";
}

// securityBarrier -> security_barrier (drizzle-kit's String.prototype.snake_case)
std::string snake_case(const std::string &key) {
	std::string out;
	for (char c : key) {
		if (std::isupper(static_cast<unsigned char>(c))) {
			if (!out.empty())
				out += '_';
			out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
		} else
			out += c;
	}
	return out;
}

// Roles PostgreSQL knows by keyword; drizzle-kit writes them unquoted.
bool builtin_role(const std::string &r) {
	return r == "current_user" || r == "current_role" || r == "session_user" || r == "public";
}

// The pieces every format shares, collected in the order they are emitted.
struct Plan {
	std::vector<std::string> schemas;  // non-public schemas, first use first
	std::set<std::string> schema_set;
	std::vector<std::string> enums, sequences, tables, indexes, fks, views, policies;
	std::set<std::string> policy_roles;  // non-built-in roles policies name
	std::vector<std::string> warnings;
	const std::map<std::string, std::string> *pk_names = nullptr;  // SnapshotDdlHints::primary_key_names

	std::string live_primary_key(const std::string &schema, const std::string &table) const {
		if (!pk_names)
			return "";
		auto it = pk_names->find(table_key(schema.empty() ? "public" : schema, table));
		return it == pk_names->end() ? "" : it->second;
	}

	// A unique constraint on exactly the primary key's columns: inside CREATE TABLE
	// PostgreSQL folds the two into one primary key named like the unique constraint;
	// added later, both stay. The snapshot cannot tell which the migrations did: by
	// default both stay (codu-code/codu), folded where the database has it folded
	// (homarr-labs/homarr, useautumn/autumn: drizzle-kit writes both inside CREATE TABLE).
	bool folded_in_database(const std::string &schema, const std::string &table, const std::string &unique) const {
		return !unique.empty() && live_primary_key(schema, table) == unique;
	}

	void use_schema(const std::string &s) {
		if (s.empty() || s == "public" || !schema_set.insert(s).second)
			return;
		schemas.push_back(s);
	}
};

// ---------------------------------------------------------------- shared pieces

std::string enum_sql(const std::string &schema, const std::string &name, const std::vector<std::string> &values) {
	std::string vs;
	for (const auto &v : values)
		vs += (vs.empty() ? "" : ", ") + sql_literal(v);
	return "CREATE TYPE " + qname(schema, name) + " AS ENUM(" + vs + ");";
}

// CREATE SEQUENCE with drizzle-kit's option order; `keys` names the increment and cache fields of the format.
std::string sequence_options(const JsonValue &o, const std::string &path, const char *increment_key,
                             const char *cache_key) {
	std::string s;
	auto opt = [&](const char *key, const char *sql) {
		std::string v = truthy_text(o.find(key), path + "." + key);
		if (!v.empty())
			s += std::string(" ") + sql + " " + v;
	};
	opt(increment_key, "INCREMENT BY");
	opt("minValue", "MINVALUE");
	opt("maxValue", "MAXVALUE");
	opt("startWith", "START WITH");
	opt(cache_key, "CACHE");
	if (flag(o.find("cycle")))
		s += " CYCLE";
	return s;
}

std::string identity_sql(const JsonValue &id, const std::string &table_schema, const std::string &table,
                         const std::string &column, const std::string &path) {
	req_obj(id, path);
	std::string type = opt_str(id, "type", path);
	std::string name = opt_str(id, "name", path);
	if (name.empty())  // drizzle-kit's default (defaultNameForIdentitySequence)
		name = table + "_" + column + "_seq";
	return std::string(" GENERATED ") + (type == "always" ? "ALWAYS" : "BY DEFAULT") + " AS IDENTITY (sequence name " +
	       qname(table_schema, name) + sequence_options(id, path, "increment", "cache") + ")";
}

std::string generated_sql(const JsonValue &g, const std::string &path) {
	req_obj(g, path);
	std::string type = opt_str(g, "type", path);
	if (!type.empty() && type != "stored")
		bad(path + ".type", "\"" + type + "\" generated columns are not supported by PostgreSQL 15 (only stored)");
	return " GENERATED ALWAYS AS (" + req_str(g, "as", path) + ") STORED";
}

std::string policy_sql(Plan &plan, const std::string &on, const std::string &name, std::string as, std::string cmd,
                       const std::vector<std::string> &roles, const std::string &using_, const std::string &check) {
	if (as.empty())
		as = "PERMISSIVE";
	if (cmd.empty())
		cmd = "ALL";
	std::string to;
	for (const auto &r : roles) {
		to += (to.empty() ? "" : ", ") + (builtin_role(r) ? r : ddl_ident(r));
		if (!builtin_role(r))
			plan.policy_roles.insert(r);
	}
	if (to.empty())
		to = "public";
	return "CREATE POLICY " + ddl_ident(name) + " ON " + on + " AS " + upper(as) + " FOR " + upper(cmd) + " TO " + to +
	       (using_.empty() ? "" : " USING (" + using_ + ")") + (check.empty() ? "" : " WITH CHECK (" + check + ")") + ";";
}

std::string view_sql(const JsonValue &v, const std::string &schema, const std::string &name, const std::string &path) {
	bool materialized = flag(v.find("materialized"));
	std::string s = std::string(materialized ? "CREATE MATERIALIZED VIEW " : "CREATE VIEW ") + qname(schema, name);
	std::string using_ = opt_str(v, "using", path);
	if (!using_.empty())
		s += " USING " + ddl_ident(using_);
	if (const JsonValue *w = opt_obj(v, "with", path)) {
		// drizzle-kit writes the options in its schema's order (its zod/ddl definition), not
		// the snapshot's; PostgreSQL keeps reloptions in the order given, so follow it.
		static const std::vector<std::string> order = {
		    "checkOption", "securityBarrier", "securityInvoker", "fillfactor", "toastTupleTarget", "parallelWorkers",
		    "autovacuumEnabled", "vacuumIndexCleanup", "vacuumTruncate", "autovacuumVacuumThreshold",
		    "autovacuumVacuumScaleFactor", "autovacuumVacuumCostDelay", "autovacuumVacuumCostLimit",
		    "autovacuumFreezeMinAge", "autovacuumFreezeMaxAge", "autovacuumFreezeTableAge",
		    "autovacuumMultixactFreezeMinAge", "autovacuumMultixactFreezeMaxAge", "autovacuumMultixactFreezeTableAge",
		    "logAutovacuumMinDuration", "userCatalogTable"};
		std::vector<std::pair<std::string, const JsonValue *>> members;
		for (const auto &k : order)
			if (const JsonValue *val = w->find(k))
				members.emplace_back(k, val);
		for (const auto &[k, val] : w->members)
			if (std::find(order.begin(), order.end(), k) == order.end())
				members.emplace_back(k, &val);
		std::string opts;
		for (const auto &[k, val] : members) {
			if (!present(val))
				continue;
			opts += (opts.empty() ? "" : ", ") + snake_case(k) + " = " + scalar(val, path + ".with." + k);
		}
		if (!opts.empty())
			s += " WITH (" + opts + ")";
	}
	std::string tablespace = opt_str(v, "tablespace", path);
	if (!tablespace.empty())
		s += " TABLESPACE " + tablespace;
	s += " AS (" + req_str(v, "definition", path) + ")";
	if (flag(v.find("withNoData")))
		s += " WITH NO DATA";
	return s + ";";
}

std::string table_sql(const std::string &qualified, const std::vector<std::string> &lines) {
	std::string s = "CREATE TABLE " + qualified + " (\n";
	for (size_t i = 0; i < lines.size(); ++i)
		s += "\t" + lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
	return s + ");";
}

std::string fk_sql(const std::string &table, const std::string &name, const std::vector<std::string> &from,
                   const std::string &to, const std::vector<std::string> &cols_to, const std::string &on_delete,
                   const std::string &on_update) {
	return "ALTER TABLE " + table + " ADD CONSTRAINT " + ddl_ident(name) + " FOREIGN KEY (" + ident_list(from) +
	       ") REFERENCES " + to + "(" + ident_list(cols_to) + ")" + (on_delete.empty() ? "" : " ON DELETE " + on_delete) +
	       (on_update.empty() ? "" : " ON UPDATE " + on_update) + ";";
}

// ---------------------------------------------------------------- drizzle-kit 0.x (5, 6, 7)

// drizzle-kit 0.x's parseType: built-in types as written, others quoted (with their
// schema), array suffixes ("[]", "[3]") moved to the end.
std::string type_v7(const std::string &type, const std::string &type_schema) {
	static const char *native[] = {
	    "uuid", "smallint", "integer", "bigint", "boolean", "text", "varchar", "serial", "bigserial", "decimal",
	    "numeric", "real", "json", "jsonb", "time", "timestamp", "date", "interval", "double precision", "char",
	    "vector", "geometry", "halfvec", "sparsevec", "bit"};
	std::string base, arrays;
	for (size_t i = 0; i < type.size();) {
		if (type[i] == '[') {
			size_t j = i + 1;
			while (j < type.size() && std::isdigit(static_cast<unsigned char>(type[j])))
				++j;
			if (j < type.size() && type[j] == ']') {
				arrays += type.substr(i, j - i + 1);
				i = j + 1;
				continue;
			}
		}
		base += type[i++];
	}
	if (!type_schema.empty())
		return qname(type_schema, base) + arrays;
	for (const char *n : native)
		if (starts_with(type, n))
			return base + arrays;
	bool plain = !base.empty();
	for (char c : base)
		plain &= std::isalnum(static_cast<unsigned char>(c)) || c == '_';
	return (plain ? ddl_ident(base) : base) + arrays;
}

void table_v7(Plan &plan, const std::string &tkey, const JsonValue &t) {
	std::string path = "tables." + tkey;
	req_obj(t, path);
	std::string name = req_str(t, "name", path), schema = opt_str(t, "schema", path);
	plan.use_schema(schema);
	std::string q = qname(schema, name);
	std::vector<std::string> lines;

	const JsonValue *cols = opt_obj(t, "columns", path);
	if (!cols)
		bad(path + ".columns", "is missing");
	// A unique constraint on exactly the primary key's columns is added after CREATE TABLE:
	// inside it PostgreSQL folds the two into one primary key (named like the unique
	// constraint), where the folder, adding it with ALTER TABLE, has both (codu-code/codu).
	std::vector<std::string> pk_cols;
	for (const auto &[ckey, c] : cols->members)
		if (c.kind == JsonValue::Kind::Object && flag(c.find("primaryKey")))
			pk_cols.push_back(req_str(c, "name", path + ".columns." + ckey));
	if (const JsonValue *pks = opt_obj(t, "compositePrimaryKeys", path); pks && !pks->members.empty() && pk_cols.empty())
		pk_cols = str_list(pks->members[0].second, "columns", path + ".compositePrimaryKeys." + pks->members[0].first, true);
	std::vector<std::string> after;  // ALTER TABLE ... ADD CONSTRAINT ... UNIQUE, for those
	// A primary key declared on its column has no name here: PostgreSQL calls it
	// <table>_pkey, but a table renamed since keeps its old one (Mail-0/Zero). The
	// database's name, when it has another, unless that is a unique constraint's the
	// snapshot declares (folded, above).
	std::string pk_as = pk_cols.size() == 1 ? plan.live_primary_key(schema, name) : "";
	if (!pk_as.empty()) {
		bool column_level = false;
		for (const auto &[ckey, c] : cols->members)
			column_level |= c.kind == JsonValue::Kind::Object && flag(c.find("primaryKey"));
		std::set<std::string> unique_names;
		for (const auto &[ckey, c] : cols->members)
			if (c.kind == JsonValue::Kind::Object && flag(c.find("isUnique"))) {
				std::string un = opt_str(c, "uniqueName", path + ".columns." + ckey);
				unique_names.insert(un.empty() ? name + "_" + req_str(c, "name", path + ".columns." + ckey) + "_unique" : un);
			}
		if (const JsonValue *us = opt_obj(t, "uniqueConstraints", path))
			for (const auto &[ukey, u] : us->members)
				if (u.kind == JsonValue::Kind::Object)
					unique_names.insert(opt_str(u, "name", path + ".uniqueConstraints." + ukey));
		if (!column_level || unique_names.count(pk_as))
			pk_as.clear();
	}
	for (const auto &[ckey, c] : cols->members) {
		std::string cp = path + ".columns." + ckey;
		req_obj(c, cp);
		std::string cname = req_str(c, "name", cp);
		std::string line = ddl_ident(cname) + " " + type_v7(req_str(c, "type", cp), opt_str(c, "typeSchema", cp));
		if (flag(c.find("primaryKey")) && pk_as.empty())
			line += " PRIMARY KEY";
		if (const JsonValue *d = c.find("default"); present(d))
			line += " DEFAULT " + json_column_default(req_str(c, "type", cp), scalar(d, cp + ".default"));
		if (const JsonValue *g = c.find("generated"); present(g))
			line += generated_sql(*g, cp + ".generated");
		const JsonValue *id = c.find("identity");
		if (flag(c.find("notNull")) && !present(id))
			line += " NOT NULL";
		if (flag(c.find("isUnique"))) {
			std::string uname = opt_str(c, "uniqueName", cp);
			if (uname.empty())
				uname = name + "_" + cname + "_unique";
			std::string u = "CONSTRAINT " + ddl_ident(uname) + " UNIQUE" + (flag(c.find("nullsNotDistinct")) ? " NULLS NOT DISTINCT" : "");
			if (pk_cols == std::vector<std::string>{cname} && !plan.folded_in_database(schema, name, uname))
				after.push_back("ALTER TABLE " + q + " ADD " + u + " (" + ddl_ident(cname) + ");");
			else
				line += " " + u;
		}
		if (present(id))
			line += identity_sql(*id, schema, name, cname, cp + ".identity");
		lines.push_back(line);
	}
	if (!pk_as.empty())
		lines.push_back("CONSTRAINT " + ddl_ident(pk_as) + " PRIMARY KEY(" + ident_list(pk_cols) + ")");
	if (const JsonValue *pks = opt_obj(t, "compositePrimaryKeys", path)) {
		for (size_t i = 0; i < pks->members.size(); ++i) {
			const auto &[pkey, p] = pks->members[i];
			std::string pp = path + ".compositePrimaryKeys." + pkey;
			req_obj(p, pp);
			if (i > 0) {  // drizzle-kit writes the first one only; a table has one primary key
				plan.warnings.push_back(pp + ": a second primary key is not built (a table has one; drizzle-kit writes the first)");
				continue;
			}
			lines.push_back("CONSTRAINT " + ddl_ident(req_str(p, "name", pp)) + " PRIMARY KEY(" +
			                ident_list(str_list(p, "columns", pp, true)) + ")");
		}
	}
	if (const JsonValue *us = opt_obj(t, "uniqueConstraints", path))
		for (const auto &[ukey, u] : us->members) {
			std::string up = path + ".uniqueConstraints." + ukey;
			req_obj(u, up);
			std::vector<std::string> ucols = str_list(u, "columns", up, true);
			std::string c = "CONSTRAINT " + ddl_ident(req_str(u, "name", up)) + " UNIQUE" +
			                (flag(u.find("nullsNotDistinct")) ? " NULLS NOT DISTINCT" : "") + "(" + ident_list(ucols) + ")";
			if (!pk_cols.empty() && ucols == pk_cols && !plan.folded_in_database(schema, name, req_str(u, "name", up)))
				after.push_back("ALTER TABLE " + q + " ADD " + c + ";");
			else
				lines.push_back(c);
		}
	if (const JsonValue *cs = opt_obj(t, "checkConstraints", path))
		for (const auto &[ckey, c] : cs->members) {
			std::string cp = path + ".checkConstraints." + ckey;
			req_obj(c, cp);
			lines.push_back("CONSTRAINT " + ddl_ident(req_str(c, "name", cp)) + " CHECK (" + req_str(c, "value", cp) + ")");
		}
	plan.tables.push_back(table_sql(q, lines));
	for (auto &a : after)
		plan.tables.push_back(std::move(a));

	const JsonValue *policies = opt_obj(t, "policies", path);
	if (flag(t.find("isRLSEnabled")) || (policies && !policies->members.empty()))
		plan.tables.push_back("ALTER TABLE " + q + " ENABLE ROW LEVEL SECURITY;");
	if (policies)
		for (const auto &[pkey, p] : policies->members) {
			std::string pp = path + ".policies." + pkey;
			req_obj(p, pp);
			plan.policies.push_back(policy_sql(plan, q, req_str(p, "name", pp), opt_str(p, "as", pp), opt_str(p, "for", pp),
			                                   str_list(p, "to", pp, false), opt_str(p, "using", pp),
			                                   opt_str(p, "withCheck", pp)));
		}

	if (const JsonValue *ixs = opt_obj(t, "indexes", path))
		for (const auto &[ikey, ix] : ixs->members) {
			std::string ip = path + ".indexes." + ikey;
			req_obj(ix, ip);
			const JsonValue *ic = ix.find("columns");
			if (!present(ic) || ic->kind != Kind::Array || ic->items.empty())
				bad(ip + ".columns", "must be a non-empty array");
			std::string cols_sql;
			for (size_t i = 0; i < ic->items.size(); ++i) {
				const JsonValue &col = ic->items[i];
				std::string cp = ip + ".columns[" + std::to_string(i) + "]";
				std::string part;
				if (col.kind == Kind::String) {  // versions 5 and 6: column names
					part = ddl_ident(col.string);
				} else {
					req_obj(col, cp);
					std::string expr = req_str(col, "expression", cp);
					const JsonValue *asc_v = col.find("asc");
					bool asc = !present(asc_v) || flag(asc_v);
					std::string nulls = lower(opt_str(col, "nulls", cp));
					std::string opclass = opt_str(col, "opclass", cp);
					if (opclass.empty())
						opclass = opt_str(col, "opClass", cp);
					part = flag(col.find("isExpression")) ? expr : ddl_ident(expr);
					// drizzle-kit 0.x drops DESC and NULLS when an operator class is given
					// (CreatePgIndexConvertor); so do we, so that the catalogs agree.
					if (!opclass.empty())
						part += " " + opclass;
					else if (!asc)
						part += " DESC";
					if (opclass.empty() && !(asc && nulls == "last") && !nulls.empty())
						part += " NULLS " + upper(nulls);
				}
				cols_sql += (cols_sql.empty() ? "" : ",") + part;
			}
			std::string method = opt_str(ix, "method", ip);
			std::string with;
			if (const JsonValue *w = opt_obj(ix, "with", ip))
				for (const auto &[k, v] : w->members)
					with += (with.empty() ? "" : ",") + k + "=" + scalar(&v, ip + ".with." + k);
			std::string where = opt_str(ix, "where", ip);
			plan.indexes.push_back(std::string("CREATE ") + (flag(ix.find("isUnique")) ? "UNIQUE INDEX " : "INDEX ") +
			                       ddl_ident(req_str(ix, "name", ip)) + " ON " + q + " USING " +
			                       (method.empty() ? "btree" : method) + " (" + cols_sql + ")" +
			                       (with.empty() ? "" : " WITH (" + with + ")") + (where.empty() ? "" : " WHERE " + where) + ";");
		}

	if (const JsonValue *fks = opt_obj(t, "foreignKeys", path))
		for (const auto &[fkey, f] : fks->members) {
			std::string fp = path + ".foreignKeys." + fkey;
			req_obj(f, fp);
			// the referenced table's schema is not created here: one the snapshot declares
			// nothing in is the environment's (Supabase's auth.users), for the shadow to find
			std::string schema_to = opt_str(f, "schemaTo", fp);
			plan.fks.push_back(fk_sql(q, req_str(f, "name", fp), str_list(f, "columnsFrom", fp, true),
			                          qname(schema_to, req_str(f, "tableTo", fp)), str_list(f, "columnsTo", fp, true),
			                          opt_str(f, "onDelete", fp), opt_str(f, "onUpdate", fp)));
		}
}

void from_v7(Plan &plan, const JsonValue &snap) {
	if (const JsonValue *schemas = opt_obj(snap, "schemas", ""))
		for (const auto &[k, v] : schemas->members)
			plan.use_schema(v.kind == Kind::String && !v.string.empty() ? v.string : k);
	if (const JsonValue *enums = opt_obj(snap, "enums", ""))
		for (const auto &[k, e] : enums->members) {
			std::string p = "enums." + k;
			req_obj(e, p);
			std::string schema = opt_str(e, "schema", p);
			plan.use_schema(schema);
			std::vector<std::string> values;
			const JsonValue *vs = e.find("values");
			if (present(vs) && vs->kind == Kind::Object) {  // version 5: {"a": "a", ...}
				for (const auto &[vk, vv] : vs->members)
					values.push_back(scalar(&vv, p + ".values." + vk));
			} else {
				values = str_list(e, "values", p, false);
			}
			plan.enums.push_back(enum_sql(schema, req_str(e, "name", p), values));
		}
	if (const JsonValue *seqs = opt_obj(snap, "sequences", ""))
		for (const auto &[k, s] : seqs->members) {
			std::string p = "sequences." + k;
			req_obj(s, p);
			std::string schema = opt_str(s, "schema", p);
			plan.use_schema(schema);
			plan.sequences.push_back("CREATE SEQUENCE " + qname(schema, req_str(s, "name", p)) +
			                         sequence_options(s, p, "increment", "cache") + ";");
		}
	if (const JsonValue *roles = opt_obj(snap, "roles", ""); roles && !roles->members.empty()) {
		std::string names;
		for (const auto &[k, _] : roles->members)
			names += (names.empty() ? "" : ", ") + k;
		plan.warnings.push_back("roles: " + names +
		                        " not created (roles are cluster-wide; create them outside the schema, as drizzle-kit's "
		                        "entities.roles migrations did)");
	}
	const JsonValue *tables = opt_obj(snap, "tables", "");
	if (!tables)
		bad("tables", "is missing");
	for (const auto &[k, t] : tables->members)
		table_v7(plan, k, t);
	if (const JsonValue *views = opt_obj(snap, "views", ""))
		for (const auto &[k, v] : views->members) {
			std::string p = "views." + k;
			req_obj(v, p);
			std::string schema = opt_str(v, "schema", p), name = req_str(v, "name", p);
			if (flag(v.find("isExisting"))) {
				plan.warnings.push_back(p + ": an existing view (.existing()) is not created: drizzle-kit does not manage it");
				continue;
			}
			plan.use_schema(schema);
			plan.views.push_back(view_sql(v, schema, name, p));
		}
	// Policies on tables the schema links (pgPolicy(...).link(table)): "on" is already quoted.
	if (const JsonValue *policies = opt_obj(snap, "policies", ""))
		for (const auto &[k, pol] : policies->members) {
			std::string p = "policies." + k;
			req_obj(pol, p);
			plan.policies.push_back(policy_sql(plan, req_str(pol, "on", p), req_str(pol, "name", p), opt_str(pol, "as", p),
			                                   opt_str(pol, "for", p), str_list(pol, "to", p, false),
			                                   opt_str(pol, "using", p), opt_str(pol, "withCheck", p)));
		}
}

// ---------------------------------------------------------------- drizzle-kit 1.0 (8)

struct TableV8 {
	std::string schema, name, path;
	bool rls = false, has_policies = false;
	std::vector<const JsonValue *> columns, pks, uniques, checks;
	std::vector<std::string> column_paths, pk_paths, unique_paths, check_paths;
};

std::string type_v8(const JsonValue &c, const std::string &path) {
	std::string type = req_str(c, "type", path), type_schema = opt_str(c, "typeSchema", path);
	const JsonValue *dims = c.find("dimensions");
	int64_t n = present(dims) && dims->kind == Kind::Number ? dims->integer : 0;
	if (n < 0 || n > 6)
		bad(path + ".dimensions", "must be between 0 and 6");
	std::string s = type_schema.empty() ? type : qname(type_schema, type);
	for (int64_t i = 0; i < n; ++i)
		s += "[]";
	return s;
}

// drizzle-kit 1.0's defaultToSQL: enum defaults get the enum's cast, array defaults the array cast.
std::string default_v8(const JsonValue &c, const std::string &path) {
	std::string def = truthy_text(c.find("default"), path + ".default");
	if (def.empty())
		return "";
	std::string type = req_str(c, "type", path), type_schema = opt_str(c, "typeSchema", path);
	const JsonValue *dims = c.find("dimensions");
	bool array = present(dims) && dims->kind == Kind::Number && dims->integer > 0;
	if (!type_schema.empty())
		return " DEFAULT " + def + "::" + qname(type_schema, type) + (array ? "[]" : "");
	return " DEFAULT " + def + (array ? "::" + type + "[]" : "");
}

bool serial_type(const std::string &t) {
	std::string l = lower(t);
	return l == "serial" || l == "bigserial" || l == "smallserial";
}

void table_v8(Plan &plan, const TableV8 &t) {
	std::string q = qname(t.schema, t.name);
	std::vector<std::string> lines;
	const JsonValue *pk = t.pks.empty() ? nullptr : t.pks.front();
	std::vector<std::string> pk_cols;
	std::string pk_name;
	if (pk) {
		pk_cols = str_list(*pk, "columns", t.pk_paths.front(), true);
		pk_name = req_str(*pk, "name", t.pk_paths.front());
		// not named in the schema: PostgreSQL's default, or the database's (see table_v7)
		std::string live = plan.live_primary_key(t.schema, t.name);
		if (!flag(pk->find("nameExplicit")) && !live.empty() && pk_cols.size() == 1) {
			bool a_unique = false;
			for (size_t i = 0; i < t.uniques.size(); ++i)
				a_unique |= opt_str(*t.uniques[i], "name", t.unique_paths[i]) == live;
			if (!a_unique)
				pk_name = live;
		}
	}
	for (size_t i = 1; i < t.pks.size(); ++i)
		plan.warnings.push_back(t.pk_paths[i] + ": a second primary key is not built (a table has one)");
	std::vector<std::vector<std::string>> unique_cols;
	for (size_t i = 0; i < t.uniques.size(); ++i)
		unique_cols.push_back(str_list(*t.uniques[i], "columns", t.unique_paths[i], true));
	std::vector<bool> unique_inline(t.uniques.size(), false);
	// one on exactly the primary key's columns: after CREATE TABLE (see table_v7)
	auto same_as_pk = [&](size_t u) {
		return pk && unique_cols[u] == pk_cols &&
		       !plan.folded_in_database(t.schema, t.name, req_str(*t.uniques[u], "name", t.unique_paths[u]));
	};

	for (size_t i = 0; i < t.columns.size(); ++i) {
		const JsonValue &c = *t.columns[i];
		const std::string &cp = t.column_paths[i];
		std::string cname = req_str(c, "name", cp), type = req_str(c, "type", cp);
		bool in_pk = false;
		for (const auto &pc : pk_cols)
			in_pk |= pc == cname;
		bool inline_pk = pk && pk_cols.size() == 1 && in_pk && pk_name == t.name + "_pkey";
		const JsonValue *id = c.find("identity"), *gen = c.find("generated");
		std::string line = ddl_ident(cname) + " " + type_v8(c, cp);
		if (inline_pk)
			line += " PRIMARY KEY";
		line += default_v8(c, cp);
		if (present(gen))
			line += generated_sql(*gen, cp + ".generated");
		if (!in_pk && !serial_type(type) && flag(c.find("notNull")) && !present(id))
			line += " NOT NULL";
		for (size_t u = 0; u < t.uniques.size(); ++u) {
			if (unique_cols[u].size() != 1 || unique_cols[u][0] != cname || same_as_pk(u))
				continue;
			const JsonValue &un = *t.uniques[u];
			line += flag(un.find("nameExplicit")) ? " CONSTRAINT " + ddl_ident(req_str(un, "name", t.unique_paths[u])) + " UNIQUE"
			                                      : std::string(" UNIQUE");
			if (flag(un.find("nullsNotDistinct")))
				line += " NULLS NOT DISTINCT";
			unique_inline[u] = true;
			break;  // drizzle-kit writes one unique per column inline; others become table constraints below
		}
		if (present(id))
			line += identity_sql(*id, t.schema, t.name, cname, cp + ".identity");
		lines.push_back(line);
	}
	if (pk && (pk_cols.size() > 1 || pk_name != t.name + "_pkey"))
		lines.push_back("CONSTRAINT " + ddl_ident(pk_name) + " PRIMARY KEY(" + ident_list(pk_cols) + ")");
	std::vector<std::string> after;
	for (size_t u = 0; u < t.uniques.size(); ++u) {
		if (unique_inline[u])
			continue;
		const JsonValue &un = *t.uniques[u];
		std::string c = "CONSTRAINT " + ddl_ident(req_str(un, "name", t.unique_paths[u])) + " UNIQUE" +
		                (flag(un.find("nullsNotDistinct")) ? " NULLS NOT DISTINCT" : "") + "(" + ident_list(unique_cols[u]) + ")";
		if (same_as_pk(u))
			after.push_back("ALTER TABLE " + q + " ADD " + c + ";");
		else
			lines.push_back(c);
	}
	for (size_t i = 0; i < t.checks.size(); ++i)
		lines.push_back("CONSTRAINT " + ddl_ident(req_str(*t.checks[i], "name", t.check_paths[i])) + " CHECK (" +
		                req_str(*t.checks[i], "value", t.check_paths[i]) + ")");
	plan.tables.push_back(table_sql(q, lines));
	for (auto &a : after)
		plan.tables.push_back(std::move(a));
	if (t.rls || t.has_policies)
		plan.tables.push_back("ALTER TABLE " + q + " ENABLE ROW LEVEL SECURITY;");
}

std::string index_v8(const JsonValue &ix, const std::string &q, const std::string &ip) {
	const JsonValue *ic = ix.find("columns");
	if (!present(ic) || ic->kind != Kind::Array || ic->items.empty())
		bad(ip + ".columns", "must be a non-empty array");
	std::string cols_sql;
	for (size_t i = 0; i < ic->items.size(); ++i) {
		const JsonValue &col = ic->items[i];
		std::string cp = ip + ".columns[" + std::to_string(i) + "]";
		req_obj(col, cp);
		std::string value = req_str(col, "value", cp);
		const JsonValue *asc_v = col.find("asc");
		bool asc = !present(asc_v) || flag(asc_v), nulls_first = flag(col.find("nullsFirst"));
		std::string part = flag(col.find("isExpression")) ? value : ddl_ident(value);
		if (const JsonValue *oc = col.find("opclass"); present(oc)) {
			if (oc->kind == Kind::String)
				part += " " + oc->string;
			else if (oc->kind == Kind::Object && !flag(oc->find("default")))
				part += " " + req_str(*oc, "name", cp + ".opclass");
		}
		if (!asc)
			part += " DESC";
		if (asc == nulls_first)  // asc with nulls first, or desc with nulls last: not the default
			part += nulls_first ? " NULLS FIRST" : " NULLS LAST";
		cols_sql += (cols_sql.empty() ? "" : ",") + part;
	}
	std::string method = opt_str(ix, "method", ip), with = opt_str(ix, "with", ip), where = opt_str(ix, "where", ip);
	return std::string("CREATE ") + (flag(ix.find("isUnique")) ? "UNIQUE INDEX " : "INDEX ") +
	       ddl_ident(req_str(ix, "name", ip)) + " ON " + q + " USING " + (method.empty() ? "btree" : method) + " (" +
	       cols_sql + ")" + (with.empty() ? "" : " WITH (" + with + ")") + (where.empty() ? "" : " WHERE " + where) + ";";
}

void from_v8(Plan &plan, const JsonValue &snap) {
	const JsonValue *ddl = snap.find("ddl");
	if (!present(ddl) || ddl->kind != Kind::Array)
		bad("ddl", "must be an array");
	std::vector<TableV8> tables;
	std::map<std::pair<std::string, std::string>, size_t> by_name;
	// tables first, so columns and constraints may come in any order
	for (size_t i = 0; i < ddl->items.size(); ++i) {
		const JsonValue &e = ddl->items[i];
		std::string p = "ddl[" + std::to_string(i) + "]";
		req_obj(e, p);
		if (opt_str(e, "entityType", p) != "tables")
			continue;
		TableV8 t;
		t.schema = opt_str(e, "schema", p);
		t.name = req_str(e, "name", p);
		t.path = p;
		t.rls = flag(e.find("isRlsEnabled"));
		if (!by_name.emplace(std::make_pair(t.schema.empty() ? "public" : t.schema, t.name), tables.size()).second)
			bad(p, "declares table " + qname(t.schema, t.name) + " a second time");
		tables.push_back(t);
	}
	auto table_of = [&](const JsonValue &e, const std::string &p) -> TableV8 & {
		std::string schema = opt_str(e, "schema", p);
		std::string table = req_str(e, "table", p);
		auto it = by_name.find({schema.empty() ? "public" : schema, table});
		if (it == by_name.end())
			bad(p + ".table", "names table " + qname(schema, table) + ", which the snapshot does not declare");
		return tables[it->second];
	};
	std::set<std::string> ignored;
	std::vector<std::string> role_names;
	size_t privileges = 0;
	for (size_t i = 0; i < ddl->items.size(); ++i) {
		const JsonValue &e = ddl->items[i];
		std::string p = "ddl[" + std::to_string(i) + "]";
		std::string type = req_str(e, "entityType", p);
		if (type == "tables") {
			continue;
		} else if (type == "schemas") {
			plan.use_schema(req_str(e, "name", p));
		} else if (type == "columns") {
			TableV8 &t = table_of(e, p);
			t.columns.push_back(&e);
			t.column_paths.push_back(p);
		} else if (type == "pks") {
			TableV8 &t = table_of(e, p);
			t.pks.push_back(&e);
			t.pk_paths.push_back(p);
		} else if (type == "uniques") {
			TableV8 &t = table_of(e, p);
			t.uniques.push_back(&e);
			t.unique_paths.push_back(p);
		} else if (type == "checks") {
			TableV8 &t = table_of(e, p);
			t.checks.push_back(&e);
			t.check_paths.push_back(p);
		} else if (type == "indexes") {
			TableV8 &t = table_of(e, p);
			plan.indexes.push_back(index_v8(e, qname(t.schema, t.name), p));
		} else if (type == "fks") {
			TableV8 &t = table_of(e, p);
			std::string schema_to = opt_str(e, "schemaTo", p);  // not created: see table_v7's foreign keys
			auto action = [&](const char *key) {
				std::string a = opt_str(e, key, p);
				return upper(a) == "NO ACTION" ? std::string() : a;
			};
			plan.fks.push_back(fk_sql(qname(t.schema, t.name), req_str(e, "name", p), str_list(e, "columns", p, true),
			                          qname(schema_to, req_str(e, "tableTo", p)), str_list(e, "columnsTo", p, true),
			                          action("onDelete"), action("onUpdate")));
		} else if (type == "policies") {
			TableV8 &t = table_of(e, p);
			t.has_policies = true;
			plan.policies.push_back(policy_sql(plan, qname(t.schema, t.name), req_str(e, "name", p), opt_str(e, "as", p),
			                                   opt_str(e, "for", p), str_list(e, "roles", p, false),
			                                   opt_str(e, "using", p), opt_str(e, "withCheck", p)));
		} else if (type == "enums") {
			std::string schema = opt_str(e, "schema", p);
			plan.use_schema(schema);
			plan.enums.push_back(enum_sql(schema, req_str(e, "name", p), str_list(e, "values", p, false)));
		} else if (type == "sequences") {
			std::string schema = opt_str(e, "schema", p);
			plan.use_schema(schema);
			plan.sequences.push_back("CREATE SEQUENCE " + qname(schema, req_str(e, "name", p)) +
			                         sequence_options(e, p, "incrementBy", "cacheSize") + ";");
		} else if (type == "views") {
			std::string schema = opt_str(e, "schema", p);
			plan.use_schema(schema);
			plan.views.push_back(view_sql(e, schema, req_str(e, "name", p), p));
		} else if (type == "roles") {
			role_names.push_back(req_str(e, "name", p));
		} else if (type == "privileges") {
			++privileges;
		} else {
			ignored.insert(type);
		}
	}
	for (const auto &t : tables) {
		plan.use_schema(t.schema);
		table_v8(plan, t);
	}
	if (!role_names.empty()) {
		std::string names;
		for (const auto &n : role_names)
			names += (names.empty() ? "" : ", ") + n;
		plan.warnings.push_back("roles: " + names +
		                        " not created (roles are cluster-wide; create them outside the schema, as drizzle-kit's "
		                        "entities.roles migrations did)");
	}
	if (privileges)
		plan.warnings.push_back("privileges: " + std::to_string(privileges) +
		                        " grants not built (privileges are not part of the compared schema)");
	for (const auto &t : ignored)
		plan.warnings.push_back("ddl: entities of type \"" + t + "\" are not understood and were ignored");
}

}  // namespace

std::string ddl_ident(std::string_view name) {
	std::string q = "\"";
	for (char c : name)
		q += c == '"' ? std::string("\"\"") : std::string(1, c);
	return q + "\"";
}

std::string join_ddl(const std::vector<std::string> &statements) {
	std::string out;
	for (size_t i = 0; i < statements.size(); ++i)
		out += (i ? "\n--> statement-breakpoint\n" : "") + statements[i];
	return out;
}

std::string table_key(const std::string &schema, const std::string &table) { return schema + '\n' + table; }

bool snapshot_to_ddl(const JsonValue &snap, SnapshotDdl &out, std::string &error, const SnapshotDdlHints &hints) {
	out = SnapshotDdl{};
	error.clear();
	if (snap.kind != Kind::Object) {
		error = "the snapshot is not a JSON object";
		return false;
	}
	Plan plan;
	plan.pk_names = &hints.primary_key_names;
	try {
		std::string version = scalar(snap.find("version"), "version");
		std::string dialect = scalar(snap.find("dialect"), "dialect");
		if (!dialect.empty() && dialect != "postgresql" && dialect != "postgres" && dialect != "pg")
			bad("dialect", "\"" + dialect + "\" is not PostgreSQL");
		if (version == "5" || version == "6" || version == "7")
			from_v7(plan, snap);
		else if (version == "8")
			from_v8(plan, snap);
		else if (version == "9") {
			// drizzle-kit 1.0.0-rc.5 as published: the first migration's snapshot is a "base"
			// (the full entity list, as in version 8); every later one a "diff" that holds only
			// deltas against its parents, so it cannot say the whole schema on its own.
			std::string type = scalar(snap.find("type"), "type");
			if (type != "base")
				bad("type", "\"" + type + "\": a version 9 snapshot of type \"" + type +
				                "\" holds only the changes against its parent snapshots (\"deltas\"); only a "
				                "\"base\" snapshot declares the whole schema");
			from_v8(plan, snap);
		} else
			bad("version", "\"" + version + "\" is not a snapshot version dbkit reads (5, 6, 7, 8, or 9 of type base)");
	} catch (const Bad &b) {
		error = b.path + ": " + b.why;
		return false;
	}
	for (const auto &s : plan.schemas)
		out.statements.push_back("CREATE SCHEMA IF NOT EXISTS " + ddl_ident(s) + ";");
	for (auto *group : {&plan.enums, &plan.sequences, &plan.tables, &plan.indexes, &plan.fks, &plan.views, &plan.policies})
		out.statements.insert(out.statements.end(), group->begin(), group->end());
	out.warnings = std::move(plan.warnings);
	if (!plan.policy_roles.empty()) {
		std::string names;
		for (const auto &r : plan.policy_roles)
			names += (names.empty() ? "" : ", ") + r;
		out.warnings.push_back("policies name the roles " + names +
		                       ", which must exist in the cluster (they are written as declared, never replaced by "
		                       "public: that would build a different policy)");
	}
	return true;
}

}  // namespace dbkit::core
