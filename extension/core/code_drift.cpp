#include "code_drift.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace dbkit::core {

namespace {

std::string lower(std::string s) {
	for (auto &c : s)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	return s;
}

std::string trim(const std::string &s) {
	size_t b = s.find_first_not_of(" \t\n\r");
	size_t e = s.find_last_not_of(" \t\n\r");
	return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool starts_with(const std::string &s, const std::string &p) { return s.rfind(p, 0) == 0; }

std::string str(const JsonValue *v) {
	if (!v)
		return "";
	switch (v->kind) {
	case JsonValue::Kind::String: return v->string;
	case JsonValue::Kind::Bool: return v->boolean ? "true" : "false";
	case JsonValue::Kind::Number: return v->is_integer ? std::to_string(v->integer) : std::to_string(v->number);
	default: return "";
	}
}

bool truthy(const JsonValue *v) { return v && v->kind == JsonValue::Kind::Bool && v->boolean; }

std::string join_idents(const JsonValue *list) {
	std::string out;
	if (!list || list->kind != JsonValue::Kind::Array)
		return out;
	for (const auto &c : list->items)
		out += (out.empty() ? "" : ", ") + catalog_ident(c.kind == JsonValue::Kind::String ? c.string : str(c.find("name")));
	return out;
}

std::string qualify(const std::string &schema, const std::string &name) {
	return catalog_ident(schema.empty() ? "public" : schema) + "." + catalog_ident(name);
}

std::string fk_action(const std::string &a) {
	std::string u;
	for (char c : a)
		u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
	return u;
}

std::string fk_definition(const std::string &cols, const std::string &schema_to, const std::string &table_to,
                          const std::string &cols_to, const std::string &on_update, const std::string &on_delete) {
	std::string d = "FOREIGN KEY (" + cols + ") REFERENCES " + qualify(schema_to, table_to) + "(" + cols_to + ")";
	if (!on_update.empty() && lower(on_update) != "no action")
		d += " ON UPDATE " + fk_action(on_update);
	if (!on_delete.empty() && lower(on_delete) != "no action")
		d += " ON DELETE " + fk_action(on_delete);
	return d;
}

void add_column(ObjectMap &out, const std::string &table_key, const std::string &name, const std::string &type,
                const std::string &type_schema, bool not_null, const JsonValue *def) {
	Attrs a;
	std::string t = lower(trim(type));
	a["type"] = normalize_type(type, type_schema);
	a["not_null"] = not_null ? "true" : "false";
	bool serial = t.find("serial") != std::string::npos;
	if (!serial)
		a["default"] = def ? normalize_default(str(def)) : "";
	out["column:" + table_key + "." + catalog_ident(name)] = a;
}

// drizzle-kit 0.x (snapshot versions 5-7): tables keyed "schema.table".
void from_v7(const JsonValue &snap, ObjectMap &out) {
	if (const JsonValue *tables = snap.find("tables"); tables && tables->kind == JsonValue::Kind::Object) {
		for (const auto &[_, t] : tables->members) {
			std::string schema = str(t.find("schema")), name = str(t.find("name"));
			std::string tk = qualify(schema, name);
			out["table:" + tk] = {};
			std::vector<std::string> pk_cols;
			if (const JsonValue *cols = t.find("columns"); cols && cols->kind == JsonValue::Kind::Object) {
				for (const auto &[cname, c] : cols->members) {
					add_column(out, tk, str(c.find("name")), str(c.find("type")), str(c.find("typeSchema")),
					           truthy(c.find("notNull")) || truthy(c.find("primaryKey")), c.find("default"));
					if (truthy(c.find("primaryKey")))
						pk_cols.push_back(catalog_ident(str(c.find("name"))));
					if (truthy(c.find("isUnique"))) {
						std::string uname = str(c.find("uniqueName"));
						if (uname.empty())
							uname = name + "_" + str(c.find("name")) + "_unique";
						out["constraint:" + tk + "." + catalog_ident(uname)] = {
						    {"definition", std::string("UNIQUE ") + (truthy(c.find("nullsNotDistinct")) ? "NULLS NOT DISTINCT " : "") +
						                       "(" + catalog_ident(str(c.find("name"))) + ")"}};
					}
				}
			}
			if (!pk_cols.empty()) {
				std::string cols;
				for (const auto &c : pk_cols)
					cols += (cols.empty() ? "" : ", ") + c;
				out["constraint:" + tk + "." + catalog_ident(name + "_pkey")] = {{"definition", "PRIMARY KEY (" + cols + ")"}};
			}
			if (const JsonValue *pks = t.find("compositePrimaryKeys"); pks && pks->kind == JsonValue::Kind::Object)
				for (const auto &[pname, p] : pks->members)
					out["constraint:" + tk + "." + catalog_ident(str(p.find("name")))] = {
					    {"definition", "PRIMARY KEY (" + join_idents(p.find("columns")) + ")"}};
			if (const JsonValue *us = t.find("uniqueConstraints"); us && us->kind == JsonValue::Kind::Object)
				for (const auto &[uname, u] : us->members)
					out["constraint:" + tk + "." + catalog_ident(str(u.find("name")))] = {
					    {"definition", std::string("UNIQUE ") + (truthy(u.find("nullsNotDistinct")) ? "NULLS NOT DISTINCT " : "") +
					                       "(" + join_idents(u.find("columns")) + ")"}};
			if (const JsonValue *fks = t.find("foreignKeys"); fks && fks->kind == JsonValue::Kind::Object)
				for (const auto &[fname, f] : fks->members)
					out["constraint:" + tk + "." + catalog_ident(str(f.find("name")))] = {
					    {"definition", fk_definition(join_idents(f.find("columnsFrom")), str(f.find("schemaTo")),
					                                 str(f.find("tableTo")), join_idents(f.find("columnsTo")),
					                                 str(f.find("onUpdate")), str(f.find("onDelete")))}};
			if (const JsonValue *ixs = t.find("indexes"); ixs && ixs->kind == JsonValue::Kind::Object)
				for (const auto &[iname, ix] : ixs->members) {
					Attrs a{{"unique", truthy(ix.find("isUnique")) ? "true" : "false"}};
					bool expr = false;
					std::string cols;
					if (const JsonValue *cs = ix.find("columns"); cs && cs->kind == JsonValue::Kind::Array)
						for (const auto &c : cs->items) {
							expr |= truthy(c.find("isExpression"));
							cols += (cols.empty() ? "" : ", ") + catalog_ident(str(c.find("expression")));
						}
					if (!expr)
						a["columns"] = cols;
					out["index:" + qualify(schema, str(ix.find("name")))] = a;
				}
		}
	}
	if (const JsonValue *enums = snap.find("enums"); enums && enums->kind == JsonValue::Kind::Object)
		for (const auto &[_, e] : enums->members) {
			std::string labels;
			if (const JsonValue *vs = e.find("values"); vs && vs->kind == JsonValue::Kind::Array)
				for (const auto &v : vs->items)
					labels += (labels.empty() ? "" : ", ") + v.string;
			out["enum:" + qualify(str(e.find("schema")), str(e.find("name")))] = {{"labels", labels}};
		}
}

// drizzle-kit 1.0 (snapshot version 8): a flat "ddl" list of entities.
void from_v8(const JsonValue &snap, ObjectMap &out) {
	const JsonValue *ddl = snap.find("ddl");
	if (!ddl || ddl->kind != JsonValue::Kind::Array)
		return;
	for (const auto &e : ddl->items) {
		std::string type = str(e.find("entityType")), schema = str(e.find("schema")), name = str(e.find("name"));
		std::string tk = qualify(schema, str(e.find("table")));
		if (type == "tables") {
			out["table:" + qualify(schema, name)] = {};
		} else if (type == "columns") {
			add_column(out, tk, name, str(e.find("type")), str(e.find("typeSchema")), truthy(e.find("notNull")),
			           e.find("default"));
		} else if (type == "enums") {
			std::string labels;
			if (const JsonValue *vs = e.find("values"); vs && vs->kind == JsonValue::Kind::Array)
				for (const auto &v : vs->items)
					labels += (labels.empty() ? "" : ", ") + v.string;
			out["enum:" + qualify(schema, name)] = {{"labels", labels}};
		} else if (type == "pks") {
			out["constraint:" + tk + "." + catalog_ident(name)] = {
			    {"definition", "PRIMARY KEY (" + join_idents(e.find("columns")) + ")"}};
		} else if (type == "uniques") {
			out["constraint:" + tk + "." + catalog_ident(name)] = {
			    {"definition", std::string("UNIQUE ") + (truthy(e.find("nullsNotDistinct")) ? "NULLS NOT DISTINCT " : "") +
			                       "(" + join_idents(e.find("columns")) + ")"}};
		} else if (type == "fks") {
			out["constraint:" + tk + "." + catalog_ident(name)] = {
			    {"definition", fk_definition(join_idents(e.find("columns")), str(e.find("schemaTo")),
			                                 str(e.find("tableTo")), join_idents(e.find("columnsTo")),
			                                 str(e.find("onUpdate")), str(e.find("onDelete")))}};
		} else if (type == "indexes") {
			out["index:" + qualify(schema, name)] = {{"unique", truthy(e.find("isUnique")) ? "true" : "false"}};
		}
	}
}

// "CREATE UNIQUE INDEX x ON public.t USING btree (a, b) WHERE ..." -> unique, "a, b"
void index_attrs(const std::string &def, Attrs &a) {
	a["unique"] = starts_with(def, "CREATE UNIQUE INDEX") ? "true" : "false";
	size_t using_at = def.find(" USING ");
	size_t open = using_at == std::string::npos ? std::string::npos : def.find('(', using_at);
	if (open == std::string::npos)
		return;
	int depth = 0;
	size_t close = open;
	for (; close < def.size(); ++close) {
		if (def[close] == '(')
			++depth;
		else if (def[close] == ')' && --depth == 0)
			break;
	}
	a["columns"] = def.substr(open + 1, close - open - 1);
}

}  // namespace

std::vector<std::string> split_qualified(const std::string &name) {
	std::vector<std::string> parts(1);
	bool in_quotes = false;
	for (char c : name) {
		if (c == '"')
			in_quotes = !in_quotes;
		if (c == '.' && !in_quotes)
			parts.emplace_back();
		else
			parts.back() += c;
	}
	return parts;
}

std::string catalog_ident(const std::string &ident) {
	static const std::set<std::string> reserved = {
	    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast",
	    "check", "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role",
	    "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do",
	    "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in",
	    "initially", "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
	    "null", "offset", "on", "only", "or", "order", "placing", "primary", "references", "returning", "select",
	    "session_user", "some", "symmetric", "table", "then", "to", "trailing", "true", "union", "unique", "user",
	    "using", "variadic", "when", "where", "window", "with"};
	bool plain = !ident.empty() && (std::islower(static_cast<unsigned char>(ident[0])) || ident[0] == '_');
	for (char c : ident)
		plain &= std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
	if (plain && !reserved.count(ident))
		return ident;
	std::string q = "\"";
	for (char c : ident)
		q += c == '"' ? std::string("\"\"") : std::string(1, c);
	return q + "\"";
}

std::string normalize_type(const std::string &drizzle_type, const std::string &type_schema) {
	std::string t = trim(drizzle_type);
	std::string suffix;
	while (t.size() > 2 && t.compare(t.size() - 2, 2, "[]") == 0) {
		suffix += "[]";
		t = trim(t.substr(0, t.size() - 2));
	}
	std::string l = lower(t);
	// precision goes before the time zone part: timestamp(3) with time zone
	for (const char *base : {"timestamp", "time"}) {
		std::string b(base);
		if ((starts_with(l, b + "(") || starts_with(l, b + " (")) && l.find(')') != std::string::npos) {
			size_t close = l.find(')');
			std::string prec = l.substr(l.find('('), close - l.find('(') + 1);
			prec.erase(std::remove(prec.begin(), prec.end(), ' '), prec.end());
			std::string rest = trim(l.substr(close + 1));
			l = b + prec + " " + (rest.empty() ? "without time zone" : rest);
			if (!type_schema.empty())
				break;
			return l + suffix;
		}
	}
	std::string mods;
	if (size_t p = l.find('('); p != std::string::npos && l.find("with") == std::string::npos &&
	                                 l.find("without") == std::string::npos) {
		mods = l.substr(p);
		l = trim(l.substr(0, p));
		mods.erase(std::remove(mods.begin(), mods.end(), ' '), mods.end());
	}
	static const std::map<std::string, std::string> alias = {
	    {"serial", "integer"}, {"serial4", "integer"}, {"int", "integer"}, {"int4", "integer"},
	    {"bigserial", "bigint"}, {"serial8", "bigint"}, {"int8", "bigint"}, {"smallserial", "smallint"},
	    {"serial2", "smallint"}, {"int2", "smallint"}, {"bool", "boolean"}, {"float8", "double precision"},
	    {"float4", "real"}, {"varchar", "character varying"}, {"char", "character"}, {"bpchar", "character"},
	    {"decimal", "numeric"}, {"timestamptz", "timestamp with time zone"}, {"timetz", "time with time zone"},
	    {"timestamp", "timestamp without time zone"}, {"time", "time without time zone"}};
	if (auto a = alias.find(l); a != alias.end())
		l = a->second;
	if (l == "character" && mods.empty())
		mods = "(1)";
	if (!type_schema.empty())
		return catalog_ident(type_schema) + "." + catalog_ident(t) + suffix;
	return l + mods + suffix;
}

std::string normalize_default(const std::string &expr) {
	std::string e = trim(expr);
	// drop trailing casts: 'draft'::public.post_status, 'x'::text, 0::bigint
	for (;;) {
		size_t cast = e.rfind("::");
		if (cast == std::string::npos)
			break;
		std::string tail = e.substr(cast + 2);
		bool simple = !tail.empty() && tail.find_first_of("()'") == std::string::npos;
		if (!simple)
			break;
		e = trim(e.substr(0, cast));
	}
	while (e.size() >= 2 && e.front() == '(' && e.back() == ')')
		e = trim(e.substr(1, e.size() - 2));
	return e;
}

bool code_objects(const JsonValue &snap, ObjectMap &out, std::string &error) {
	if (snap.kind != JsonValue::Kind::Object) {
		error = "not a JSON object";
		return false;
	}
	std::string version = str(snap.find("version"));
	if (version == "5" || version == "6" || version == "7")
		from_v7(snap, out);
	else if (version == "8")
		from_v8(snap, out);
	else {
		error = "snapshot version \"" + version + "\" is not supported (supported: 5, 6, 7, 8)";
		return false;
	}
	return true;
}

ObjectMap live_objects(const JsonValue &live) {
	ObjectMap out;
	std::set<std::string> constraint_names;  // "schema.name": indexes backing constraints are not drizzle indexes
	for (const auto &[key, v] : live.members)
		if (starts_with(key, "constraint:")) {
			std::vector<std::string> parts = split_qualified(key.substr(11));  // schema, table, conname
			if (parts.size() == 3)
				constraint_names.insert(parts[0] + "." + parts[2]);
		}
	for (const auto &[key, v] : live.members) {
		if (starts_with(key, "table:")) {
			out[key] = {};
		} else if (starts_with(key, "column:")) {
			out[key] = {{"type", str(v.find("type"))},
			            {"not_null", str(v.find("not_null"))},
			            {"default", normalize_default(str(v.find("default")))}};
		} else if (starts_with(key, "constraint:")) {
			std::string type = str(v.find("type"));
			if (type == "primary key" || type == "unique" || type == "foreign key")
				out[key] = {{"definition", str(v.find("definition"))}};
		} else if (starts_with(key, "index:")) {
			if (constraint_names.count(key.substr(6)))
				continue;
			Attrs a;
			index_attrs(str(v.find("definition")), a);
			out[key] = a;
		} else if (starts_with(key, "enum:")) {
			std::string labels;
			if (const JsonValue *ls = v.find("labels"); ls && ls->kind == JsonValue::Kind::Array)
				for (const auto &l : ls->items)
					labels += (labels.empty() ? "" : ", ") + l.string;
			out[key] = {{"labels", labels}};
		}
	}
	return out;
}

std::vector<DriftItem> compare_objects(const ObjectMap &code, const ObjectMap &live) {
	std::vector<DriftItem> out;
	auto split = [](const std::string &key, DriftItem &d) {
		size_t colon = key.find(':');
		d.kind = key.substr(0, colon);
		d.name = key.substr(colon + 1);
	};
	for (const auto &[key, want] : code) {
		DriftItem d;
		split(key, d);
		auto it = live.find(key);
		if (it == live.end()) {
			d.change = "missing";
			d.detail = "the code declares " + d.kind + " " + d.name + " but the database does not have it";
			out.push_back(d);
			continue;
		}
		for (const auto &[attr, value] : want) {
			auto have = it->second.find(attr);
			std::string got = have == it->second.end() ? "" : have->second;
			if (got != value)
				d.detail += (d.detail.empty() ? "" : "; ") + attr + ": code says " + (value.empty() ? "(none)" : value) +
				            ", database has " + (got.empty() ? "(none)" : got);
		}
		if (!d.detail.empty()) {
			d.change = "different";
			out.push_back(d);
		}
	}
	for (const auto &[key, _] : live) {
		if (code.count(key))
			continue;
		DriftItem d;
		split(key, d);
		d.change = "extra";
		d.detail = "the database has " + d.kind + " " + d.name + " but the code does not declare it";
		out.push_back(d);
	}
	return out;
}

}  // namespace dbkit::core
