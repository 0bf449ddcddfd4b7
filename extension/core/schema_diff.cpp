#include "schema_diff.hpp"

#include "environment.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "code_drift.hpp"

namespace dbkit::core {

const char *hazard_name(Hazard h) {
	switch (h) {
	case Hazard::DataLoss: return "data loss";
	case Hazard::TableRewrite: return "table rewrite";
	case Hazard::IndexBuild: return "index build";
	case Hazard::AccessExclusive: return "access exclusive lock";
	case Hazard::Validation: return "validation scan";
	case Hazard::FailsOnData: return "fails on some data";
	case Hazard::NoTransaction: return "outside a transaction";
	}
	return "?";
}

bool parse_rename(const std::string &spec, Rename &out) {
	size_t eq = spec.rfind('=');
	if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
		return false;
	out.from = spec.substr(0, eq);
	out.to = spec.substr(eq + 1);
	return true;
}

namespace {

using Snap = std::map<std::string, JsonValue>;

// ---------------------------------------------------------------------------
// JSON helpers

void canon_into(const JsonValue &v, std::string &out, bool top) {
	switch (v.kind) {
	case JsonValue::Kind::Null: out += "null"; break;
	case JsonValue::Kind::Bool: out += v.boolean ? "true" : "false"; break;
	case JsonValue::Kind::Number:
		if (v.is_integer)
			out += std::to_string(v.integer);
		else {
			char buf[64];
			std::snprintf(buf, sizeof buf, "%.17g", v.number);
			out += buf;
		}
		break;
	case JsonValue::Kind::String: append_json_quoted(out, v.string); break;
	case JsonValue::Kind::Array:
		out += '[';
		for (size_t i = 0; i < v.items.size(); ++i) {
			if (i)
				out += ',';
			canon_into(v.items[i], out, false);
		}
		out += ']';
		break;
	case JsonValue::Kind::Object: {
		std::map<std::string, const JsonValue *> sorted;
		for (auto &m : v.members)
			if (!(top && (m.first == "owner" || m.first == "acl" || m.first == "comment" ||
			             m.first == "column_comments" || m.first == "depends_on" || m.first == "owned_by")))
				sorted[m.first] = &m.second;
		out += '{';
		bool first = true;
		for (auto &m : sorted) {
			if (!first)
				out += ',';
			first = false;
			append_json_quoted(out, m.first);
			out += ':';
			canon_into(*m.second, out, false);
		}
		out += '}';
		break;
	}
	}
}

// The value as comparable text, owner, acl and comment left out (a comment is
// planned on its own, COMMENT ON, and never makes an object be created again),
// and a view's depends_on (derived from its definition, which is compared).
std::string canon(const JsonValue &v) {
	std::string out;
	canon_into(v, out, true);
	return out;
}

std::string sget(const JsonValue &v, const char *key) {
	const JsonValue *m = v.find(key);
	if (!m || m->kind == JsonValue::Kind::Null)
		return "";
	if (m->kind == JsonValue::Kind::String)
		return m->string;
	if (m->kind == JsonValue::Kind::Bool)
		return m->boolean ? "true" : "false";
	std::string out;
	canon_into(*m, out, false);
	return out;
}

bool bget(const JsonValue &v, const char *key) {
	const JsonValue *m = v.find(key);
	return m && m->kind == JsonValue::Kind::Bool && m->boolean;
}

std::vector<std::string> strings(const JsonValue &v, const char *key) {
	std::vector<std::string> out;
	if (const JsonValue *m = v.find(key); m && m->kind == JsonValue::Kind::Array)
		for (auto &i : m->items)
			out.push_back(i.kind == JsonValue::Kind::String ? i.string : canon(i));
	return out;
}

void for_each_string(JsonValue &v, const std::function<void(std::string &)> &f) {
	if (v.kind == JsonValue::Kind::String)
		f(v.string);
	for (auto &i : v.items)
		for_each_string(i, f);
	for (auto &m : v.members)
		for_each_string(m.second, f);
}

std::string kind_of(const std::string &key) { return key.substr(0, key.find(':')); }
std::string name_of(const std::string &key) {
	size_t c = key.find(':');
	return c == std::string::npos ? key : key.substr(c + 1);
}

std::string join(const std::vector<std::string> &v, const std::string &sep) {
	std::string out;
	for (size_t i = 0; i < v.size(); ++i)
		out += (i ? sep : "") + v[i];
	return out;
}

std::string literal(const std::string &s) {
	std::string out = "'";
	for (char c : s)
		out += c == '\'' ? std::string("''") : std::string(1, c);
	return out + "'";
}

// The items of "a, b(c, d), \"e,f\"": split at the commas outside parentheses and
// quotes, each trimmed of spaces.
std::vector<std::string> split_list(const std::string &s) {
	std::vector<std::string> out(1);
	int depth = 0;
	char quote = 0;
	for (char c : s) {
		if (quote)
			quote = c == quote ? 0 : quote;
		else if (c == '"' || c == '\'')
			quote = c;
		else if (c == '(')
			++depth;
		else if (c == ')')
			--depth;
		else if (c == ',' && depth == 0) {
			out.emplace_back();
			continue;
		}
		out.back() += c;
	}
	for (auto &i : out) {
		i.erase(0, i.find_first_not_of(' '));
		i.erase(i.find_last_not_of(' ') + 1);
	}
	return out;
}

// ---------------------------------------------------------------------------
// Identifier tokens in SQL text (definitions as pg_get_*def prints them).

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || (c & 0x80); }

struct Token {
	size_t begin, end;  // [begin, end) in the text; ident tokens only
};

// The identifier tokens (plain words and "quoted" ones) outside string literals
// and dollar-quoted bodies; `dots[i]` tells whether a '.' directly follows token i.
std::vector<Token> ident_tokens(const std::string &s) {
	std::vector<Token> out;
	size_t i = 0, n = s.size();
	while (i < n) {
		char c = s[i];
		if (c == '\'') {
			for (++i; i < n; ++i)
				if (s[i] == '\'') {
					if (i + 1 < n && s[i + 1] == '\'')
						++i;
					else
						break;
				}
			++i;
		} else if (c == '"') {
			size_t b = i;
			for (++i; i < n; ++i)
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"')
						++i;
					else
						break;
				}
			++i;
			out.push_back({b, std::min(i, n)});
		} else if (ident_char(c) && !std::isdigit(static_cast<unsigned char>(c))) {
			size_t b = i;
			while (i < n && ident_char(s[i]))
				++i;
			out.push_back({b, i});
		} else if (std::isdigit(static_cast<unsigned char>(c))) {
			while (i < n && ident_char(s[i]))
				++i;
		} else
			++i;
	}
	return out;
}

// Where `parts` (e.g. public, users) occurs as a dotted name, not as the tail of a longer one.
std::vector<std::pair<size_t, size_t>> find_qualified(const std::string &s, const std::vector<std::string> &parts) {
	std::vector<std::pair<size_t, size_t>> out;
	auto toks = ident_tokens(s);
	for (size_t i = 0; i + parts.size() <= toks.size(); ++i) {
		if (toks[i].begin > 0 && s[toks[i].begin - 1] == '.')
			continue;
		bool ok = true;
		for (size_t k = 0; k < parts.size() && ok; ++k) {
			const Token &t = toks[i + k];
			ok = s.compare(t.begin, t.end - t.begin, parts[k]) == 0 && t.end - t.begin == parts[k].size();
			if (ok && k + 1 < parts.size())
				ok = t.end < s.size() && s[t.end] == '.' && toks[i + k + 1].begin == t.end + 1;
		}
		if (ok)
			out.emplace_back(toks[i].begin, toks[i + parts.size() - 1].end);
	}
	return out;
}

bool mentions(const std::string &text, const std::string &qname) {
	return !find_qualified(text, split_qualified(qname)).empty();
}

// Does `text` (an expression as PostgreSQL prints it) name the identifier `ident`
// (as quote_ident spells it) outside string literals? Conservative: a function or
// a type with the same name counts too.
bool names_ident(const std::string &text, const std::string &ident) {
	for (const Token &t : ident_tokens(text))
		if (t.end - t.begin == ident.size() && text.compare(t.begin, ident.size(), ident) == 0)
			return true;
	return false;
}

// Does `expr` call the function `fq` ("s.f(integer)" as a snapshot key names it)?
// Its name followed by '(', qualified by its schema: the snapshot reads expressions
// under search_path = pg_catalog, so PostgreSQL prints every other schema's functions
// qualified (and an unqualified call of the same name is pg_catalog's). `as_written`:
// a text kept as the user wrote it (a domain's default), where an unqualified name counts.
bool calls(const std::string &expr, const std::string &fq, bool as_written = false) {
	auto p = split_qualified(fq.substr(0, fq.find('(')));
	if (p.size() != 2)
		return false;
	for (const Token &t : ident_tokens(expr)) {
		if (t.end - t.begin != p[1].size() || expr.compare(t.begin, p[1].size(), p[1]) != 0 || t.end >= expr.size() ||
		    expr[t.end] != '(')
			continue;
		bool dotted = t.begin > 0 && expr[t.begin - 1] == '.';
		size_t q = dotted ? t.begin - 1 : 0;
		size_t b = q - (dotted && q >= p[0].size() ? p[0].size() : 0);
		if (dotted ? q >= p[0].size() && expr.compare(b, p[0].size(), p[0]) == 0 && (b == 0 || !ident_char(expr[b - 1]))
		           : p[0] == "pg_catalog" || as_written)
			return true;
	}
	return false;
}

std::string replace_qualified(const std::string &s, const std::string &from_q, const std::string &to_q) {
	auto hits = find_qualified(s, split_qualified(from_q));
	std::string out = s;
	for (auto it = hits.rbegin(); it != hits.rend(); ++it)
		out.replace(it->first, it->second - it->first, to_q);
	return out;
}

// Replaces the bare identifier `from` (a column) by `to`, leaving qualified
// names other than "<alias>.col" alone.
std::string replace_ident(const std::string &s, const std::string &from, const std::string &to) {
	auto toks = ident_tokens(s);
	std::string out = s;
	for (auto it = toks.rbegin(); it != toks.rend(); ++it)
		if (s.compare(it->begin, it->end - it->begin, from) == 0 && it->end - it->begin == from.size() &&
		    !(it->end < s.size() && s[it->end] == '.') && !(it->end < s.size() && s[it->end] == '('))
			out.replace(it->begin, it->end - it->begin, to);
	return out;
}

std::string qname_of(const std::vector<std::string> &p, size_t n) {
	std::vector<std::string> head(p.begin(), p.begin() + std::min(n, p.size()));
	return join(head, ".");
}

// `s` without its surrounding `q` quotes, a doubled `q` inside read as one; `s` itself
// when it is not quoted that way.
std::string unquoted(const std::string &s, char q) {
	if (s.size() < 2 || s.front() != q || s.back() != q)
		return s;
	std::string out;
	for (size_t i = 1; i + 1 < s.size(); ++i) {
		out += s[i];
		if (s[i] == q && s[i + 1] == q)
			++i;
	}
	return out;
}
// An identifier as quote_ident spells it, back to the name it stands for.
std::string bare_ident(const std::string &s) { return unquoted(s, '"'); }
// An enum label as --rename may spell it ('sad' or sad).
std::string unquote_label(const std::string &s) { return unquoted(s, '\''); }

// A short, always-valid identifier (never over 63 bytes) derived from `seed`.
std::string short_name(const std::string &prefix, const std::string &seed) {
	uint64_t h = 1469598103934665603ULL;
	for (unsigned char c : seed)
		h = (h ^ c) * 1099511628211ULL;
	char buf[32];
	std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
	return prefix + buf;
}

// `name` (maybe quoted) with `suffix` appended, kept within 63 bytes.
std::string suffixed_ident(const std::string &quoted, const std::string &suffix) {
	bool q = !quoted.empty() && quoted.front() == '"';
	std::string raw = q ? quoted.substr(1, quoted.size() - 2) : quoted;
	std::string plain;
	for (size_t i = 0; i < raw.size(); ++i) {
		plain += raw[i];
		if (q && raw[i] == '"')
			++i;  // "" -> "
	}
	size_t room = 63 - suffix.size();
	if (plain.size() > room) {
		plain.resize(room);
		while (!plain.empty() && (static_cast<unsigned char>(plain.back()) & 0xC0) == 0x80)
			plain.pop_back();  // never cut a UTF-8 character in two
		if (!plain.empty() && (static_cast<unsigned char>(plain.back()) & 0x80))
			plain.pop_back();
	}
	return catalog_ident(plain + suffix);
}

// ---------------------------------------------------------------------------
// Types

std::string base_of(const std::string &type, int &n) {
	size_t p = type.find('(');
	if (p == std::string::npos) {
		n = -1;
		return type;
	}
	n = std::atoi(type.c_str() + p + 1);
	std::string rest = type.substr(type.find(')', p) + 1);
	return type.substr(0, p) + rest;
}

// Is from -> to a conversion that never fails nor loses anything?
bool widening(const std::string &from, const std::string &to, bool &rewrites) {
	rewrites = true;
	static const std::map<std::string, std::set<std::string>> ints = {
	    {"smallint", {"integer", "bigint", "numeric", "double precision"}},
	    {"integer", {"bigint", "numeric"}},
	    {"bigint", {"numeric"}},
	    {"real", {"double precision"}}};
	if (auto it = ints.find(from); it != ints.end() && it->second.count(to))
		return true;
	int nf, nt;
	std::string bf = base_of(from, nf), bt = base_of(to, nt);
	if (bf == "character varying" && (to == "text" || (bt == "character varying" && (nt < 0 || (nf >= 0 && nt >= nf))))) {
		rewrites = false;
		return true;
	}
	if (bf == "numeric" && bt == "numeric") {
		if (nt < 0) {
			rewrites = false;
			return true;
		}
		// numeric(p,s) -> numeric(p2,s) with p2 >= p
		size_t cf = from.find(','), ct = to.find(',');
		std::string sf = cf == std::string::npos ? "0" : from.substr(cf + 1), st = ct == std::string::npos ? "0" : to.substr(ct + 1);
		if (nf >= 0 && nt >= nf && std::atoi(sf.c_str()) == std::atoi(st.c_str())) {
			rewrites = false;
			return true;
		}
	}
	if (from == "text" && to == "character varying") {
		rewrites = false;
		return true;
	}
	return false;
}

// ---------------------------------------------------------------------------
// The planner

enum Phase {
	P_SCHEMAS,
	P_EXTENSIONS,
	P_RENAMES,
	P_ENUMS,
	P_TYPES,  // sequences, domains, composite types
	P_DROP_TRIGGERS,
	P_DROP_POLICIES,
	P_DROP_VIEW_USERS,  // functions whose signature or SQL-standard body names a view created again
	P_DROP_VIEWS,
	P_DROP_FKS,
	P_DROP_CONSTRAINTS,
	P_DROP_INDEXES,
	P_DROP_FUNCTIONS_EARLY,  // SQL-standard bodies reading a column whose type changes (they block it)
	P_RECREATE_ENUMS,  // after the views and policies reading their columns are gone, before new tables use them
	P_FUNCTIONS_EARLY,
	P_CREATE_TABLES,
	P_FUNCTIONS_AFTER_TABLES,  // SQL functions replacing one dropped under its callers: after the new tables they may read
	P_ALTER_COLUMNS,
	P_ADD_CONSTRAINTS,
	P_ADD_FKS,
	P_FUNCTIONS,
	P_VIEWS,
	P_INDEXES,
	P_TABLE_ATTRS,
	P_TRIGGERS,
	P_POLICIES,
	P_DROP_TABLES,
	P_DROP_COLUMNS,
	P_DROP_SEQUENCES,
	P_DROP_FUNCTIONS,
	P_DROP_TYPES,
	P_DROP_ENUMS,
	P_DROP_EXTENSIONS,
	P_DROP_SCHEMAS,
	P_COMMENTS,  // last: on what exists by then, including what was created again
	P_COUNT
};

struct Planner {
	Snap from, to;  // `from` with the declared renames applied
	const DiffOptions &opts;
	DiffResult result;
	std::vector<DiffStatement> phases[P_COUNT];
	std::set<std::string> new_tables;          // created by this plan
	std::set<std::string> retyped_tables;      // a column changes type: dependent views go and come back
	std::set<std::string> retyped_columns;     // "s.t.c" of those columns
	std::set<std::string> readded_columns;     // "s.t.c" of generated columns dropped and added again (in retyped_columns too)
	std::set<std::string> functions_recreated;  // "s.f(integer)" dropped and created again
	std::set<std::string> recreate;            // keys dropped and created again for a dependency
	std::map<std::string, std::string> recreated_enums;  // enum qname -> the old one's temporary name
	std::map<std::string, std::string> view_reason;  // view -> why it is dropped and created again unchanged
	std::set<std::string> views_going;         // views and materialized views dropped (and maybe created again)
	std::set<std::string> new_bodies;          // IMMUTABLE functions replaced in place: their indexes are rebuilt
	std::vector<std::string> persistence_changes;  // tables turning LOGGED or UNLOGGED

	explicit Planner(const DiffOptions &o) : opts(o) {}

	DiffStatement &emit(Phase p, std::string sql, std::string object) {
		DiffStatement s;
		s.sql = std::move(sql);
		s.object = std::move(object);
		phases[p].push_back(std::move(s));
		return phases[p].back();
	}
	static void hazard(DiffStatement &s, Hazard h, const std::string &text) {
		s.hazards.push_back(text);
		if (std::find(s.hazard_kinds.begin(), s.hazard_kinds.end(), h) == s.hazard_kinds.end())
			s.hazard_kinds.push_back(h);
		if (h == Hazard::DataLoss)
			s.data_loss = true;
	}
	static void clear_data_loss(DiffStatement &s) {
		s.hazards.erase(std::remove_if(s.hazards.begin(), s.hazards.end(),
		                               [](const std::string &h) { return h.rfind("data loss: ", 0) == 0; }),
		                s.hazards.end());
		s.hazard_kinds.erase(std::remove(s.hazard_kinds.begin(), s.hazard_kinds.end(), Hazard::DataLoss),
		                     s.hazard_kinds.end());
		s.data_loss = false;
	}
	void refuse(const std::string &object, const std::string &message, const std::string &hint) {
		result.refusals.push_back({object, message, hint});
	}

	const JsonValue *get(const Snap &s, const std::string &key) const {
		auto it = s.find(key);
		return it == s.end() ? nullptr : &it->second;
	}
	std::vector<std::string> keys(const Snap &s, const std::string &kind) const {
		std::vector<std::string> out;
		std::string prefix = kind + ":";
		for (auto it = s.lower_bound(prefix); it != s.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
			out.push_back(it->first);
		return out;
	}
	// Keys "<kind>:<table>.<name>" of one table.
	std::vector<std::string> children(const Snap &s, const std::string &kind, const std::string &table) const {
		std::vector<std::string> out;
		std::string prefix = kind + ":" + table + ".";
		for (auto it = s.lower_bound(prefix); it != s.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
			if (split_qualified(name_of(it->first)).size() == 3)
				out.push_back(it->first);
		return out;
	}
	bool table_in(const Snap &s, const std::string &q) const { return s.count("table:" + q) > 0; }
	bool partitioned(const Snap &s, const std::string &q) const {
		auto *t = get(s, "table:" + q);
		return t && sget(*t, "kind") == "partitioned";
	}
	bool existed(const std::string &table) const { return table_in(from, table) && !new_tables.count(table); }

	// -----------------------------------------------------------------------
	// Renames: rewrite `from` as if they had happened, and plan them.

	void rename_table(const std::string &old_q, const std::string &new_q) {
		Snap out;
		auto parts_old = split_qualified(old_q);
		for (auto &[key, v] : from) {
			std::string kind = kind_of(key), name = name_of(key);
			JsonValue nv = v;
			std::string nkey = key;
			if (name == old_q && kind == "table")
				nkey = "table:" + new_q;
			else if (name.compare(0, old_q.size() + 1, old_q + ".") == 0 && split_qualified(name).size() == 3 &&
			         qname_of(split_qualified(name), 2) == old_q)
				nkey = kind + ":" + new_q + name.substr(old_q.size());
			if (kind == "constraint" || kind == "index" || kind == "view" || kind == "materialized_view" ||
			    kind == "trigger" || kind == "table" || kind == "policy" || kind == "rule")
				for_each_string(nv, [&](std::string &s) { s = replace_qualified(s, old_q, new_q); });
			if (kind == "sequence")  // owned by one of the table's columns
				for (auto &m : nv.members)
					if (m.first == "owned_by" && m.second.kind == JsonValue::Kind::String &&
					    m.second.string.compare(0, old_q.size() + 1, old_q + ".") == 0)
						m.second.string = new_q + m.second.string.substr(old_q.size());
			if (kind == "column" || kind == "type")  // a column or an attribute of the table's row type
				for (auto &m : nv.members)
					if ((m.first == "type" && m.second.kind == JsonValue::Kind::String) || m.first == "attributes")
						for_each_string(m.second, [&](std::string &s) { s = replace_qualified(s, old_q, new_q); });
			if (kind == "function" || kind == "procedure") {
				// the table's row type in the signature follows the table (the body's text does
				// not, unless it is SQL-standard, which PostgreSQL keeps parsed)
				nkey = kind + ":" + replace_qualified(name, old_q, new_q);
				for (auto &m : nv.members)
					if (m.first == "definition" && m.second.kind == JsonValue::Kind::String) {
						std::string &d = m.second.string;
						size_t a = d.find('\n'), b = a == std::string::npos ? a : d.find('\n', a + 1);
						if (d.find("BEGIN ATOMIC") != std::string::npos || b == std::string::npos)
							d = replace_qualified(d, old_q, new_q);
						else
							d = replace_qualified(d.substr(0, b), old_q, new_q) + d.substr(b);
					}
			}
			out[nkey] = std::move(nv);
		}
		from = std::move(out);
	}

	// Is a relation (table, index, sequence, view) of that qualified name on the `from` side?
	bool relation_taken(const std::string &q) const {
		for (const char *kind : {"table", "index", "sequence", "view", "materialized_view"})
			if (from.count(std::string(kind) + ":" + q))
				return true;
		return implicit_from.count("index:" + q) > 0;  // a constraint's index
	}

	// ALTER TABLE ... SET SCHEMA: the table takes its indexes, constraints, triggers,
	// policies and the sequences its columns own along (PostgreSQL moves them). Whether
	// a sequence a default draws from is owned is not in the snapshot, so each is put
	// where the desired schema has the moved column draw from, with ALTER SEQUENCE IF
	// EXISTS, which is right either way: after the table's move the sequence is in one
	// of the two schemas. `final_q` is the table's name on the desired side. False (and
	// a refusal) when a relation of a moving name is already in the new schema.
	bool move_table(const std::string &old_q, const std::string &nschema, const std::string &final_q) {
		auto p = split_qualified(old_q);
		std::string nq = nschema + "." + p[1];
		auto clash = [&](const std::string &q) {
			refuse("table:" + old_q, "table " + old_q + " moves to schema " + nschema + ", where " + q +
			                             " already exists (it would take that name along): rename one of them first, "
			                             "in a migration of its own",
			       "");
			return false;
		};
		for (const Snap *m : {&from, &implicit_from})
			for (auto &ik : keys(*m, "index"))
				if (sget(m->at(ik), "table") == old_q && relation_taken(nschema + "." + split_qualified(name_of(ik)).back()))
					return clash(nschema + "." + split_qualified(name_of(ik)).back());
		std::map<std::string, std::string> seq_moves;  // old qname -> new qname
		std::vector<std::pair<std::string, std::string>> stays;  // sequences the desired side keeps behind
		for (auto &ck : children(from, "column", old_q)) {
			auto sq = split_qualified(nextval_of(sget(from.at(ck), "default")));
			if (sq.size() != 2 || sq[0] != p[0] || !from.count("sequence:" + p[0] + "." + sq[1]))
				continue;
			std::string a = p[0] + "." + sq[1], b = nschema + "." + sq[1];
			if (seq_moves.count(a))
				continue;
			auto *tc = get(to, "column:" + final_q + "." + split_qualified(name_of(ck))[2]);
			if (tc && nextval_of(sget(*tc, "default")) == a) {
				stays.emplace_back(a, b);
				continue;
			}
			if (relation_taken(b))
				return clash(b);
			seq_moves[a] = b;
		}
		emit(P_RENAMES, "ALTER TABLE " + old_q + " SET SCHEMA " + nschema, "table:" + old_q);
		for (auto &[a, b] : seq_moves)
			emit(P_RENAMES, "ALTER SEQUENCE IF EXISTS " + a + " SET SCHEMA " + nschema, "sequence:" + a).comment =
			    "moved with the table already when its column owns it";
		for (auto &[a, b] : stays) {
			// PostgreSQL keeps an owned sequence in its table's schema: staying behind, it is owned no more
			emit(P_RENAMES, "ALTER SEQUENCE IF EXISTS " + b + " OWNED BY NONE", "sequence:" + a).comment =
			    "the table's move took it along if its column owned it: back where the desired schema has it";
			emit(P_RENAMES, "ALTER SEQUENCE IF EXISTS " + b + " SET SCHEMA " + p[0], "sequence:" + a);
		}
		Snap out;
		for (auto &[key, v] : from) {
			std::string kind = kind_of(key), name = name_of(key), nkey = key;
			JsonValue nv = v;
			if (kind == "index" && sget(v, "table") == old_q)
				nkey = "index:" + nschema + "." + split_qualified(name).back();
			if (kind == "sequence" && seq_moves.count(name))
				nkey = "sequence:" + seq_moves[name];
			if (kind == "sequence")  // left behind: owned no more (OWNED BY NONE above)
				for (auto &[a, b] : stays)
					if (a == name)
						nv.members.erase(std::remove_if(nv.members.begin(), nv.members.end(),
						                                [](const auto &m) { return m.first == "owned_by"; }),
						                 nv.members.end());
			if (kind == "column" && qname_of(split_qualified(name), 2) == old_q)
				for (auto &m : nv.members)
					if (m.first == "default" && seq_moves.count(nextval_of(m.second.string)))
						m.second.string = "nextval(" + literal(seq_moves[nextval_of(m.second.string)]) + "::regclass)";
			out[nkey] = std::move(nv);
		}
		from = std::move(out);
		rename_table(old_q, nq);
		return true;
	}

	void rename_column(const std::string &table, const std::string &old_c, const std::string &new_c) {
		JsonValue v = from["column:" + table + "." + old_c];
		from.erase("column:" + table + "." + old_c);
		from["column:" + table + "." + new_c] = v;
		for (auto &[key, val] : from) {
			std::string kind = kind_of(key);
			bool own = false;
			if (kind == "constraint" || kind == "trigger" || kind == "policy")
				own = qname_of(split_qualified(name_of(key)), 2) == table;
			else if (kind == "index")
				own = sget(val, "table") == table;
			if (own)
				for_each_string(val, [&](std::string &s) { s = replace_ident(s, old_c, new_c); });
			// PostgreSQL rewrites the table's generation expressions too: the column
			// computed from the renamed one is not dropped and added again
			if (kind == "column" && qname_of(split_qualified(name_of(key)), 2) == table)
				for (auto &m : val.members)
					if (m.first == "generated" && m.second.kind == JsonValue::Kind::String)
						m.second.string = replace_ident(m.second.string, old_c, new_c);
			if (kind == "sequence")
				for (auto &m : val.members)
					if (m.first == "owned_by" && m.second.kind == JsonValue::Kind::String &&
					    m.second.string == table + "." + old_c)
						m.second.string = table + "." + new_c;
			if (kind == "view" || kind == "materialized_view")
				if (JsonValue *deps = const_cast<JsonValue *>(val.find("depends_on")))
					for (auto &d : deps->items)
						if (d.string == table + "." + old_c)
							d.string = table + "." + new_c;
		}
	}

	std::set<std::string> renamed_with_parent;  // "column:child.col" renamed by the parent's RENAME COLUMN

	// The partitions and inheriting tables of `t`, and theirs (the `from` side).
	std::vector<std::string> descendants(const std::string &t) const {
		std::vector<std::string> out;
		std::vector<std::string> todo{t};
		while (!todo.empty()) {
			std::string p = todo.back();
			todo.pop_back();
			for (auto &k : keys(from, "table")) {
				auto inh = strings(from.at(k), "inherits");
				if (sget(from.at(k), "partition_of") == p || std::find(inh.begin(), inh.end(), p) != inh.end()) {
					if (std::find(out.begin(), out.end(), name_of(k)) == out.end()) {
						out.push_back(name_of(k));
						todo.push_back(name_of(k));
					}
				}
			}
		}
		return out;
	}

	// Is there a --rename of the same column to the same name on a table `t` descends from?
	bool ancestor_renames(const std::string &t, const std::string &col, const std::string &new_name,
	                      const std::map<std::string, std::string> &table_moves) const {
		for (auto &r : opts.renames) {
			auto p = split_qualified(r.from);
			if (p.size() != 3 || p[2] != col || r.to != new_name)
				continue;
			std::string pt = qname_of(p, 2);
			if (auto m = table_moves.find(pt); m != table_moves.end())
				pt = m->second;
			if (pt == t)
				continue;
			auto d = descendants(pt);
			if (std::find(d.begin(), d.end(), t) != d.end())
				return true;
		}
		return false;
	}

	std::set<std::string> renamed_from;  // the FROM of every --rename of a table, planned or refused

	void apply_renames() {
		std::map<std::string, std::string> table_moves;  // old qname -> new qname
		// tables first, so that a column's rename may name the table either way
		for (auto &r : opts.renames) {
			auto p = split_qualified(r.from);
			if (p.size() == 2 && table_in(from, r.from)) {
				renamed_from.insert(r.from);
				// TO is a new name ("articles") or, for a move to another schema, qualified ("blog.posts")
				auto tp = split_qualified(r.to);
				std::string nschema = tp.size() == 2 ? tp[0] : p[0], nname = tp.back();
				std::string nq = nschema + "." + nname;
				if (tp.size() > 2 || table_in(from, nq) || !table_in(to, nq)) {
					refuse("table:" + r.from, "--rename " + r.from + "=" + r.to + ": the desired schema has no new table " + nq, "");
					continue;
				}
				std::string at = r.from;
				// moved and renamed: renamed first when its name is taken in the new schema
				bool rename_first = nschema != p[0] && nname != p[1] && relation_taken(nschema + "." + p[1]);
				if (rename_first || (nschema == p[0] && nname != p[1])) {
					if (relation_taken(p[0] + "." + nname)) {
						refuse("table:" + r.from, "--rename " + r.from + "=" + r.to + ": " + p[0] + "." + nname + " and " +
						                              nschema + "." + p[1] + " are both taken: rename in two migrations", "");
						continue;
					}
					emit(P_RENAMES, "ALTER TABLE " + at + " RENAME TO " + nname, "table:" + r.from);
					rename_table(at, p[0] + "." + nname);
					at = p[0] + "." + nname;
				}
				if (nschema != p[0]) {
					if (relation_taken(nschema + "." + split_qualified(at)[1])) {
						refuse("table:" + r.from, "--rename " + r.from + "=" + r.to + ": schema " + nschema + " already has a " +
						                              "relation named " + split_qualified(at)[1] + ": rename one of them first", "");
						continue;
					}
					if (!move_table(at, nschema, nq))
						continue;
					at = nschema + "." + split_qualified(at)[1];
				}
				if (at != nq) {
					emit(P_RENAMES, "ALTER TABLE " + at + " RENAME TO " + nname, "table:" + r.from);
					rename_table(at, nq);
				}
				table_moves[r.from] = nq;
			}
		}
		for (auto &r : opts.renames) {
			auto p = split_qualified(r.from);
			if (p.size() == 2 && renamed_from.count(r.from))
				continue;  // planned above, or refused with its reason
			if (p.size() == 3) {
				std::string t = qname_of(p, 2);
				if (table_moves.count(t))
					t = table_moves[t];
				if (from.count("column:" + t + "." + p[2]) && ancestor_renames(t, p[2], r.to, table_moves))
					continue;  // the parent's RENAME COLUMN, wherever its --rename is listed, renames this one
				if (from.count("column:" + t + "." + p[2])) {
					std::string nk = "column:" + t + "." + r.to;
					if (from.count(nk) || !to.count(nk)) {
						refuse("column:" + t + "." + p[2],
						       "--rename " + r.from + "=" + r.to + ": the desired schema has no new column " + name_of(nk), "");
						continue;
					}
					emit(P_RENAMES, "ALTER TABLE " + t + " RENAME COLUMN " + p[2] + " TO " + r.to, "column:" + t + "." + p[2]);
					rename_column(t, p[2], r.to);
					// PostgreSQL renames the column of every partition and inheriting table too
					for (const std::string &child : descendants(t))
						if (from.count("column:" + child + "." + p[2]) && to.count("column:" + child + "." + r.to)) {
							rename_column(child, p[2], r.to);
							renamed_with_parent.insert("column:" + child + "." + p[2]);
						}
					continue;
				}
				if (renamed_with_parent.count("column:" + t + "." + p[2]))
					continue;  // a --rename of a child's column its parent's rename already did
				std::string ek = "enum:" + qname_of(p, 2);
				if (from.count(ek)) {
					std::string ol = unquote_label(p[2]), nl = unquote_label(r.to);
					JsonValue &e = from[ek];
					bool found = false;
					if (JsonValue *labels = const_cast<JsonValue *>(e.find("labels")))
						for (auto &l : labels->items)
							if (l.string == ol) {
								l.string = nl;
								found = true;
							}
					if (found) {
						emit(P_RENAMES, "ALTER TYPE " + qname_of(p, 2) + " RENAME VALUE " + literal(ol) + " TO " + literal(nl), ek);
						std::string enum_q = qname_of(p, 2);
						for (auto &[key, val] : from)
							if (kind_of(key) == "column")
								for_each_string(val, [&](std::string &s) {
									std::string a = literal(ol) + "::" + enum_q, b = literal(nl) + "::" + enum_q;
									for (size_t at = s.find(a); at != std::string::npos; at = s.find(a, at + b.size()))
										s.replace(at, a.size(), b);
								});
						continue;
					}
				}
			}
			if (p.size() == 2 && from.count("sequence:" + r.from)) {
				// a sequence, renamed in its schema: it keeps its value
				auto tp = split_qualified(r.to);
				std::string nq = p[0] + "." + tp.back(), ka = "sequence:" + r.from, kb = "sequence:" + nq;
				if ((tp.size() == 2 && tp[0] != p[0]) || tp.size() > 2 || from.count(kb) || !to.count(kb)) {
					refuse(ka, "--rename " + r.from + "=" + r.to + ": the desired schema has no new sequence " + nq +
					               " in schema " + p[0], "");
					continue;
				}
				emit(P_RENAMES, "ALTER SEQUENCE " + r.from + " RENAME TO " + tp.back(), ka).comment =
				    "renamed, so it keeps its value";
				JsonValue v = from.at(ka);
				from.erase(ka);
				from[kb] = v;
				continue;
			}
			refuse(r.from, "--rename " + r.from + "=" + r.to + ": there is no table, column, sequence or enum value " + r.from +
			                   " to rename",
			       "");
		}
	}

	// The sequence a default draws from: "s.q" of nextval('s.q'::regclass), or "".
	static std::string nextval_of(const std::string &def) {
		const std::string head = "nextval('", tail = "'::regclass)";
		if (def.compare(0, head.size(), head) != 0 || def.size() < head.size() + tail.size() ||
		    def.compare(def.size() - tail.size(), tail.size(), tail) != 0)
			return "";
		std::string name = def.substr(head.size(), def.size() - head.size() - tail.size());
		return name.find('\'') == std::string::npos ? name : "";
	}

	// A column (after the declared renames) whose default moves from nextval(A) to
	// nextval(B), A lost and B gained in the same schema: one counter under a new name,
	// as a serial column's after its table or column is renamed (PostgreSQL keeps the
	// old name). Renamed, so it keeps its value: created again it would start at 1 and
	// the next insert would collide with the rows already there.
	void rename_counters() {
		for (auto &ck : keys(to, "column")) {
			auto it = from.find(ck);
			if (it == from.end())
				continue;
			std::string fd = sget(it->second, "default"), td = sget(to.at(ck), "default");
			std::string a = nextval_of(fd), b = nextval_of(td);
			if (a.empty() || b.empty() || a == b)
				continue;
			std::string ka = "sequence:" + a, kb = "sequence:" + b;
			auto pa = split_qualified(a), pb = split_qualified(b);
			if (!from.count(ka) || to.count(ka) || from.count(kb) || !to.count(kb) || pa.size() != 2 || pb.size() != 2 ||
			    pa[0] != pb[0])
				continue;
			emit(P_RENAMES, "ALTER SEQUENCE " + a + " RENAME TO " + pb[1], ka).comment =
			    "the sequence of " + name_of(ck) + " under its new name: renamed, so it keeps its value";
			JsonValue v = from.at(ka);
			from.erase(ka);
			from[kb] = v;
			for (auto &m : it->second.members)
				if (m.first == "default")
					m.second.string = td;
		}
	}

	// A constraint or index that is gone and one that is new on the same table, with the
	// same definition: PostgreSQL named them after the table or column (a rename, or
	// drizzle's naming) -- renaming keeps the index instead of building it again.
	void rename_lookalikes() {
		rename_counters();
		std::map<std::string, std::string> gained;  // table + type + definition -> key on the desired side
		for (auto &k : keys(to, "constraint"))
			if (!from.count(k))
				gained.emplace(constraint_table(k) + "\n" + sget(to.at(k), "type") + "\n" + sget(to.at(k), "definition"), k);
		for (auto &k : keys(from, "constraint")) {
			if (to.count(k))
				continue;
			auto it = gained.find(constraint_table(k) + "\n" + sget(from.at(k), "type") + "\n" + sget(from.at(k), "definition"));
			if (it == gained.end() || from.count(it->second))
				continue;
			emit(P_RENAMES, "ALTER TABLE " + constraint_table(k) + " RENAME CONSTRAINT " + last_name(k) + " TO " + last_name(it->second), k)
			    .comment = "same definition, another name: renamed, not built again";
			JsonValue v = from.at(k);
			from.erase(k);
			from[it->second] = v;
			gained.erase(it);
		}
		auto shape = [](const JsonValue &v) {
			std::string def = sget(v, "definition");
			size_t on = def.find(" ON ");
			return sget(v, "table") + "\n" + def.substr(0, def.find(" INDEX ")) + "\n" + (on == std::string::npos ? def : def.substr(on));
		};
		std::map<std::string, std::string> gained_idx;
		for (auto &k : keys(to, "index"))
			if (!from.count(k))
				gained_idx.emplace(shape(to.at(k)), k);
		for (auto &k : keys(from, "index")) {
			if (to.count(k))
				continue;
			auto it = gained_idx.find(shape(from.at(k)));
			if (it == gained_idx.end() || from.count(it->second))
				continue;
			auto pf = split_qualified(name_of(k)), pt = split_qualified(name_of(it->second));
			if (pf[0] != pt[0])
				continue;
			emit(P_RENAMES, "ALTER INDEX " + name_of(k) + " RENAME TO " + pt[1], k).comment =
			    "same definition, another name: renamed, not built again";
			JsonValue v = to.at(it->second);
			from.erase(k);
			from[it->second] = v;
			gained_idx.erase(it);
		}
	}

	// A standalone sequence (owned by no column) lost and one gained in the same schema: its
	// counter is data, so a rename is asked for as a table's is (a drop and a create
	// would start the application's numbers at 1 again).
	void check_ambiguous_sequences() {
		if (opts.drop_and_add)
			return;
		auto standalone = [](const JsonValue &v) { return sget(v, "owned_by").empty(); };
		std::map<std::string, std::vector<std::string>> gained;  // schema -> new sequences
		for (auto &k : keys(to, "sequence"))
			if (!from.count(k) && standalone(to.at(k)))
				gained[split_qualified(name_of(k))[0]].push_back(name_of(k));
		for (auto &k : keys(from, "sequence")) {
			if (to.count(k) || !standalone(from.at(k)))
				continue;
			auto p = split_qualified(name_of(k));
			auto &g = gained[p[0]];
			if (g.empty())
				continue;
			refuse(k,
			       "the desired schema loses sequence " + name_of(k) + " and gains " + join(g, ", ") +
			           ": a rename (it keeps its value), or a drop and a create (numbering starts again)? Say which "
			           "(--drop-and-add if they are unrelated).",
			       "--rename " + name_of(k) + "=" + split_qualified(g.front())[1]);
		}
	}

	// Lost and gained objects that could be one renamed: refuse unless told.
	void check_ambiguous() {
		if (opts.drop_and_add)
			return;
		std::map<std::string, std::vector<std::string>> gained;  // schema -> new tables
		for (auto &k : keys(to, "table"))
			if (!from.count(k))
				gained[split_qualified(name_of(k))[0]].push_back(name_of(k));
		for (auto &k : keys(from, "table")) {
			if (to.count(k) || renamed_from.count(name_of(k)))
				continue;  // a --rename of it was refused with its own reason
			auto p = split_qualified(name_of(k));
			// the same name in another schema first (moved there?), then any new table of its schema
			std::string moved;
			for (auto &[schema, tables] : gained)
				for (auto &t : tables)
					if (schema != p[0] && split_qualified(t)[1] == p[1] && moved.empty())
						moved = t;
			if (!moved.empty()) {
				refuse(k,
				       "the desired schema loses table " + name_of(k) + " and gains " + moved + ": moved to schema " +
				           split_qualified(moved)[0] + ", or a drop and a create? Say which (--drop-and-add if they are unrelated).",
				       "--rename " + name_of(k) + "=" + moved);
				continue;
			}
			auto &g = gained[p[0]];
			if (g.empty())
				continue;
			std::string other = split_qualified(g.front())[1];
			refuse(k,
			       "the desired schema loses table " + name_of(k) + " and gains " + join(g, ", ") +
			           ": a rename, or a drop and a create? Say which (--drop-and-add if they are unrelated).",
			       "--rename " + name_of(k) + "=" + other);
		}
		// an enum that loses a value and gains another: RENAME VALUE keeps the rows holding
		// it; making the type again (the only other way) fails on them
		for (auto &k : keys(from, "enum")) {
			if (!to.count(k))
				continue;
			auto old = strings(from.at(k), "labels"), now = strings(to.at(k), "labels");
			std::vector<std::string> lost, gained;
			for (auto &l : old)
				if (std::find(now.begin(), now.end(), l) == now.end())
					lost.push_back(literal(l));
			for (auto &l : now)
				if (std::find(old.begin(), old.end(), l) == old.end())
					gained.push_back(literal(l));
			if (lost.empty() || gained.empty())
				continue;
			auto arg = [](std::string lit) {  // a label as --rename takes it: bare when it can be
				bool bare = lit.size() > 2 && std::all_of(lit.begin() + 1, lit.end() - 1, [](char c) {
					return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
				});
				return bare ? lit.substr(1, lit.size() - 2) : lit;
			};
			refuse(k,
			       "enum " + name_of(k) + " loses value" + (lost.size() > 1 ? "s " : " ") + join(lost, ", ") + " and gains " +
			           join(gained, ", ") + ": a rename (RENAME VALUE: rows holding it keep it under the new name), or a "
			           "drop and an add (the type is made again, which fails on rows holding a dropped value)? Say which "
			           "(--drop-and-add if they are unrelated).",
			       "--rename " + name_of(k) + "." + arg(lost[0]) + "=" + arg(gained[0]));
		}
		for (auto &tk : keys(from, "table")) {
			std::string t = name_of(tk);
			if (!to.count(tk))
				continue;
			auto lost = children(from, "column", t), won = children(to, "column", t);
			for (auto &c : lost) {
				if (to.count(c))
					continue;
				std::string type = sget(from.at(c), "type");
				for (auto &w : won)
					if (!from.count(w) && sget(to.at(w), "type") == type) {
						std::string cn = split_qualified(name_of(c))[2], wn = split_qualified(name_of(w))[2];
						refuse(c,
						       "table " + t + " loses column " + cn + " and gains " + wn + " of the same type (" + type +
						           "): a rename, or a drop and an add? Say which (--drop-and-add if they are unrelated).",
						       "--rename " + name_of(c) + "=" + wn);
						break;
					}
			}
		}
	}

	// -----------------------------------------------------------------------
	// Objects PostgreSQL makes by itself: constraint indexes, and the constraints
	// and indexes a partition or an inheriting table gets from its parent.

	std::vector<std::string> parents(const Snap &s, const std::string &table) const {
		std::vector<std::string> out;
		if (auto *t = get(s, "table:" + table)) {
			if (auto p = sget(*t, "partition_of"); !p.empty())
				out.push_back(p);
			for (auto &p : strings(*t, "inherits"))
				out.push_back(p);
		}
		return out;
	}

	static std::string index_tail(const std::string &def) {
		size_t u = def.find(" USING ");
		return (def.compare(0, 13, "CREATE UNIQUE") == 0 ? "u" : "") + (u == std::string::npos ? def : def.substr(u));
	}

	bool implicit(const Snap &s, const std::string &key) const {
		std::string kind = kind_of(key);
		if (kind == "index") {
			const JsonValue &v = s.at(key);
			std::string table = sget(v, "table");
			std::string idx = split_qualified(name_of(key)).back();
			if (auto *c = get(s, "constraint:" + table + "." + idx)) {
				std::string t = sget(*c, "type");
				if (t == "primary key" || t == "unique" || t == "exclusion")
					return true;
			}
			auto *tv = get(s, "table:" + table);
			std::string parent = tv ? sget(*tv, "partition_of") : "";
			if (!parent.empty()) {
				std::string tail = index_tail(sget(v, "definition"));
				for (auto &[k2, v2] : s)
					if (kind_of(k2) == "index" && sget(v2, "table") == parent && index_tail(sget(v2, "definition")) == tail)
						return true;
			}
			return false;
		}
		if (kind == "constraint") {
			auto p = split_qualified(name_of(key));
			std::string table = qname_of(p, 2);
			const JsonValue &v = s.at(key);
			for (auto &par : parents(s, table))
				for (auto &ck : children(s, "constraint", par)) {
					const JsonValue &pv = s.at(ck);
					if (sget(pv, "type") == sget(v, "type") && sget(pv, "definition") == sget(v, "definition"))
						return true;
				}
		}
		return false;
	}

	void drop_implicit(Snap &s, std::map<std::string, JsonValue> *kept = nullptr) {
		std::vector<std::string> gone;
		for (auto &[k, v] : s)
			if ((kind_of(k) == "index" || kind_of(k) == "constraint") && implicit(s, k))
				gone.push_back(k);
		if (kept)
			for (auto &k : gone)
				(*kept)[k] = s.at(k);
		for (auto &k : gone)
			s.erase(k);
	}
	std::map<std::string, JsonValue> implicit_to;  // what PostgreSQL makes by itself on the desired side (constraint indexes)
	std::map<std::string, JsonValue> implicit_from;  // ... and on the current side (for their comments)

	// -----------------------------------------------------------------------

	void plan_schemas_extensions() {
		for (auto &k : keys(to, "schema"))
			if (!from.count(k))
				emit(P_SCHEMAS, "CREATE SCHEMA " + name_of(k), k);
		for (auto &k : keys(from, "schema"))
			if (!to.count(k))
				emit(P_DROP_SCHEMAS, "DROP SCHEMA " + name_of(k), k);
		for (auto &k : keys(to, "extension")) {
			const JsonValue &t = to.at(k);
			std::string schema = catalog_ident(sget(t, "schema")), version = sget(t, "version");
			auto *f = get(from, k);
			if (!f) {
				emit(P_EXTENSIONS,
				     "CREATE EXTENSION IF NOT EXISTS " + name_of(k) + " WITH SCHEMA " + schema +
				         (version.empty() ? "" : " VERSION " + literal(version)),
				     k);
				continue;
			}
			if (sget(*f, "schema") != sget(t, "schema"))
				emit(P_EXTENSIONS, "ALTER EXTENSION " + name_of(k) + " SET SCHEMA " + schema, k);
			if (sget(*f, "version") != version)
				emit(P_EXTENSIONS, "ALTER EXTENSION " + name_of(k) + " UPDATE TO " + literal(version), k);
		}
		for (auto &k : keys(from, "extension"))
			if (!to.count(k))
				emit(P_DROP_EXTENSIONS, "DROP EXTENSION " + name_of(k), k);
	}

	// Columns (of tables on both sides) whose type is the enum, or an array of it.
	std::vector<std::string> columns_of_type(const std::string &type) const {
		std::vector<std::string> out;
		for (auto &k : keys(from, "column")) {
			std::string t = sget(from.at(k), "type");
			if ((t == type || t == type + "[]") && to.count(k) && sget(to.at(k), "type") == t)
				out.push_back(k);
		}
		return out;
	}

	void plan_enums() {
		for (auto &k : keys(to, "enum")) {
			auto labels = strings(to.at(k), "labels");
			std::vector<std::string> lits;
			for (auto &l : labels)
				lits.push_back(literal(l));
			auto *f = get(from, k);
			if (!f) {
				emit(P_ENUMS, "CREATE TYPE " + name_of(k) + " AS ENUM (" + join(lits, ", ") + ")", k);
				continue;
			}
			auto old = strings(*f, "labels");
			if (old == labels)
				continue;
			// Kept labels in the same order: ADD VALUE is enough.
			std::vector<std::string> kept;
			for (auto &l : labels)
				if (std::find(old.begin(), old.end(), l) != old.end())
					kept.push_back(l);
			if (kept == old && !opts.one_transaction) {
				for (size_t i = 0; i < labels.size(); ++i) {
					if (std::find(old.begin(), old.end(), labels[i]) != old.end())
						continue;
					std::string where = i > 0 ? " AFTER " + literal(labels[i - 1])
					                          : (labels.size() > 1 ? " BEFORE " + literal(labels[1]) : "");
					auto &s = emit(P_ENUMS, "ALTER TYPE " + name_of(k) + " ADD VALUE " + literal(labels[i]) + where, k);
					// A new value cannot be used before the transaction that added it commits.
					s.no_transaction = true;
					s.comment = "its own transaction: a value added to an enum cannot be used before it is committed";
				}
				continue;
			}
			recreate_enum(k, old, labels, lits);
		}
		for (auto &k : keys(from, "enum"))
			if (!to.count(k))
				emit(P_DROP_ENUMS, "DROP TYPE " + name_of(k), k);
	}

	static bool names_type_of(const JsonValue &column, const std::string &q) {
		std::string t = sget(column, "type");
		return t == q || t == q + "[]";
	}

	void recreate_enum(const std::string &k, const std::vector<std::string> &old, const std::vector<std::string> &labels,
	                   const std::vector<std::string> &lits) {
		std::string q = name_of(k);
		auto p = split_qualified(q);
		std::string tmp_name = suffixed_ident(p[1], "__dbkit_old");
		std::string tmp = p[0] + "." + tmp_name;
		std::vector<std::string> removed;
		for (auto &l : old)
			if (std::find(labels.begin(), labels.end(), l) == labels.end())
				removed.push_back(l);
		auto &r = emit(P_RECREATE_ENUMS, "ALTER TYPE " + q + " RENAME TO " + tmp_name, k);
		r.comment = removed.empty() ? (old.size() < labels.size() && opts.one_transaction
		                                   ? "enum " + q + " gains values in one transaction: it is created again"
		                                   : "enum " + q + " reorders its values: it is created again")
		                            : "enum " + q + " loses values " + join(removed, ", ") + ": it is created again";
		emit(P_RECREATE_ENUMS, "CREATE TYPE " + q + " AS ENUM (" + join(lits, ", ") + ")", k);
		for (auto &ck : columns_of_type(q)) {
			auto cp = split_qualified(name_of(ck));
			std::string table = qname_of(cp, 2), col = cp[2];
			const JsonValue &fv = from.at(ck);
			bool arr = sget(fv, "type") == q + "[]";
			retyped_tables.insert(table);
			retyped_columns.insert(name_of(ck));
			// a partition's (inheriting table's) column: the parent's DROP DEFAULT and
			// ALTER ... TYPE recurse to it (PostgreSQL refuses them on an inherited column)
			bool inherited = false;
			for (auto &pt : stable_parents(table))
				inherited |= from.count("column:" + pt + "." + col) && names_type_of(from.at("column:" + pt + "." + col), q);
			if (inherited) {
				if (!sget(fv, "default").empty())
					from[ck].members.erase(std::remove_if(from[ck].members.begin(), from[ck].members.end(),
					                                      [](auto &m) { return m.first == "default"; }),
					                       from[ck].members.end());
				continue;
			}
			if (!sget(fv, "default").empty())
				emit(P_RECREATE_ENUMS, "ALTER TABLE " + table + " ALTER COLUMN " + col + " DROP DEFAULT", ck);
			auto &s = emit(P_RECREATE_ENUMS,
			               "ALTER TABLE " + table + " ALTER COLUMN " + col + " TYPE " + q + (arr ? "[]" : "") + " USING " +
			                   col + "::text" + (arr ? "[]" : "") + "::" + q + (arr ? "[]" : ""),
			               ck);
			hazard(s, Hazard::TableRewrite, "rewrites table " + table);
			hazard(s, Hazard::AccessExclusive, "lock: ACCESS EXCLUSIVE on " + table);
			if (!removed.empty()) {
				hazard(s, Hazard::DataLoss,
				       "data loss: rows of " + table + " holding " + join(removed, ", ") + " in " + col + " make this fail");
				s.table_for_rowcount = table;
			}
			// the default (if any) is set again by the column diff, in the new type
			if (!sget(fv, "default").empty())
				from[ck].members.erase(std::remove_if(from[ck].members.begin(), from[ck].members.end(),
				                                      [](auto &m) { return m.first == "default"; }),
				                       from[ck].members.end());
		}
		// An expression naming the type (a check's, an index's predicate or key: 'a'::s.e)
		// stays on the old one after the rename: dropped first, made again on the new type.
		for (const char *kind : {"constraint", "index"})
			for (auto &ok : keys(from, kind))
				if (to.count(ok) && mentions(sget(from.at(ok), "definition"), q))
					recreate.insert(ok);
		// Domains and composite types over it would keep the old type too: not planned.
		auto names_type = [&](const std::string &t) { return t == q || t == q + "[]"; };
		for (auto &dk : keys(from, "domain"))
			if (names_type(sget(from.at(dk), "type")))
				refuse(k, "enum " + q + " must be created again (it loses or reorders values) and domain " + name_of(dk) +
				              " is over it: dbkit does not plan that; write the migration by hand", "");
		for (auto &tk : keys(from, "type"))
			if (auto *a = from.at(tk).find("attributes"))
				for (auto &i : a->items)
					if (i.items.size() == 2 && names_type(i.items[1].string))
						refuse(k, "enum " + q + " must be created again (it loses or reorders values) and composite type " +
						              name_of(tk) + " has an attribute of it: dbkit does not plan that; write the migration by hand", "");
		auto &d = emit(P_DROP_ENUMS, "DROP TYPE " + tmp, k);
		if (!removed.empty())
			hazard(d, Hazard::DataLoss, "data loss: enum " + q + " loses values " + join(removed, ", "));
		recreated_enums[q] = tmp;
	}

	// identity -> serial: the column (on both sides; identity in `from`, none in `to`)
	// whose new default draws from the new sequence `seq`, or "".
	std::map<std::string, std::string> identity_serials;  // column key -> the new sequence's temporary name
	std::string identity_to_serial_column(const std::string &seq) const {
		if (from.count("sequence:" + seq))
			return "";
		for (auto &ck : keys(to, "column"))
			if (nextval_of(sget(to.at(ck), "default")) == seq && from.count(ck) && !sget(from.at(ck), "identity").empty() &&
			    sget(to.at(ck), "identity").empty())
				return ck;
		return "";
	}

	void plan_sequences_domains_types() {
		for (auto &k : keys(to, "sequence")) {
			const JsonValue &t = to.at(k);
			std::string opts_text = " AS " + sget(t, "type") + " INCREMENT BY " + sget(t, "increment") + " MINVALUE " +
			                        sget(t, "min") + " MAXVALUE " + sget(t, "max") + " START WITH " + sget(t, "start") +
			                        " CACHE " + sget(t, "cache") + (bget(t, "cycle") ? " CYCLE" : " NO CYCLE");
			auto *f = get(from, k);
			std::string ck = identity_to_serial_column(name_of(k));
			if (!f && !ck.empty()) {
				// identity -> serial: the identity's own sequence (dropped with DROP IDENTITY)
				// likely has this name, so the new one is made under another until then
				auto p = split_qualified(name_of(k));
				std::string tmp = p[0] + "." + suffixed_ident(p[1], "__dbkit_new");
				emit(P_TYPES, "CREATE SEQUENCE " + tmp + opts_text, k);
				identity_serials[ck] = tmp;
			} else if (!f)
				emit(P_TYPES, "CREATE SEQUENCE " + name_of(k) + opts_text, k);
			else if (canon(*f) != canon(t))
				emit(P_TYPES, "ALTER SEQUENCE " + name_of(k) + opts_text, k);
		}
		// OWNED BY as the desired side has it (read from pg_depend): once the column exists,
		// before a column or table that owned it is dropped (the drop would take it along)
		for (auto &k : keys(to, "sequence")) {
			const JsonValue *f = get(from, k);
			std::string want = sget(to.at(k), "owned_by"), had = f ? sget(*f, "owned_by") : "";
			if (want == had || (!f && !identity_to_serial_column(name_of(k)).empty()))
				continue;  // identity -> serial: owned with its column's change
			emit(P_TABLE_ATTRS, "ALTER SEQUENCE " + name_of(k) + " OWNED BY " + (want.empty() ? "NONE" : want), k);
		}
		for (auto &k : keys(from, "sequence"))
			if (!to.count(k)) {
				DiffStatement &d = emit(P_DROP_SEQUENCES, "DROP SEQUENCE IF EXISTS " + name_of(k), k);
				d.comment = "IF EXISTS: a sequence owned by a dropped column or table is already gone";
				// its counter is data, unless the column that owns it goes too (that drop is the loss)
				std::string owner = sget(from.at(k), "owned_by");
				if (owner.empty() || to.count("column:" + owner))
					hazard(d, Hazard::DataLoss, "data loss: drops sequence " + name_of(k) + " and the value it has reached");
			}

		for (auto &k : keys(to, "domain")) {
			const JsonValue &t = to.at(k);
			std::map<std::string, std::string> tc, fc;
			if (auto *c = t.find("constraints"))
				for (auto &m : c->members)
					tc[catalog_ident(m.first)] = m.second.string;
			auto *f = get(from, k);
			std::string q = name_of(k);
			if (!f) {
				std::string sql = "CREATE DOMAIN " + q + " AS " + sget(t, "type");
				if (!sget(t, "default").empty())
					sql += " DEFAULT " + sget(t, "default");
				if (bget(t, "not_null"))
					sql += " NOT NULL";
				for (auto &[n, d] : tc)
					sql += " CONSTRAINT " + n + " " + d;
				emit(P_TYPES, sql, k);
				continue;
			}
			auto detached = [&](const std::string &n) { return detached_domain_checks.count(k + "\n" + n) > 0; };
			if (auto *c = f->find("constraints"))
				for (auto &m : c->members)
					fc[catalog_ident(m.first)] = m.second.string;
			bool any_detached = detached("");
			for (auto &fcn : fc)
				any_detached = any_detached || detached(fcn.first);
			if (canon(*f) == canon(t) && !any_detached)
				continue;
			if (sget(*f, "type") != sget(t, "type")) {
				refuse(k, "domain " + q + " changes its base type (" + sget(*f, "type") + " -> " + sget(t, "type") +
				              "): dbkit does not plan that; write the migration by hand", "");
				continue;
			}
			if (detached("")) {  // its default calls a function dropped below: set again after it
				emit(P_TYPES, "ALTER DOMAIN " + q + " DROP DEFAULT", k);
				if (!sget(t, "default").empty())
					emit(P_ADD_CONSTRAINTS, "ALTER DOMAIN " + q + " SET DEFAULT " + sget(t, "default"), k);
			} else if (sget(*f, "default") != sget(t, "default"))
				emit(P_TYPES, "ALTER DOMAIN " + q + (sget(t, "default").empty() ? " DROP DEFAULT" : " SET DEFAULT " + sget(t, "default")), k);
			if (bget(*f, "not_null") != bget(t, "not_null")) {
				auto &s = emit(P_TYPES, "ALTER DOMAIN " + q + (bget(t, "not_null") ? " SET NOT NULL" : " DROP NOT NULL"), k);
				if (bget(t, "not_null"))
					hazard(s, Hazard::Validation, "validates every column of domain " + q);
			}
			for (auto &[n, d] : fc)
				if (!tc.count(n) || tc[n] != d || detached(n))
					emit(P_TYPES, "ALTER DOMAIN " + q + " DROP CONSTRAINT " + n, k).comment =
					    detached(n) ? "it calls a function that is dropped below: added again after it" : "";
			for (auto &[n, d] : tc)
				if (!fc.count(n) || fc[n] != d || detached(n)) {
					Phase ph = detached(n) ? P_ADD_CONSTRAINTS : P_TYPES;  // after the functions created early
					emit(ph, "ALTER DOMAIN " + q + " ADD CONSTRAINT " + n + " " + d + " NOT VALID", k);
					auto &s = emit(ph, "ALTER DOMAIN " + q + " VALIDATE CONSTRAINT " + n, k);
					hazard(s, Hazard::Validation, "validates every column of domain " + q);
				}
		}
		for (auto &k : keys(from, "domain"))
			if (!to.count(k))
				emit(P_DROP_TYPES, "DROP DOMAIN " + name_of(k), k);

		for (auto &k : keys(to, "type")) {
			auto attrs = [](const JsonValue &v) {
				std::vector<std::pair<std::string, std::string>> out;
				if (auto *a = v.find("attributes"))
					for (auto &i : a->items)
						if (i.items.size() == 2)
							out.emplace_back(catalog_ident(i.items[0].string), i.items[1].string);
				return out;
			};
			auto ta = attrs(to.at(k));
			auto *f = get(from, k);
			if (!f) {
				std::vector<std::string> cols;
				for (auto &[n, t] : ta)
					cols.push_back(n + " " + t);
				emit(P_TYPES, "CREATE TYPE " + name_of(k) + " AS (" + join(cols, ", ") + ")", k);
				continue;
			}
			auto fa = attrs(*f);
			std::map<std::string, std::string> fm(fa.begin(), fa.end()), tm(ta.begin(), ta.end());
			// dropped and retyped attributes after the views reading them are gone (a view
			// reading one that stays the same is made again: through retyped_columns)
			for (auto &[n, t] : fa)
				if (!tm.count(n))
					emit(P_DROP_FUNCTIONS_EARLY, "ALTER TYPE " + name_of(k) + " DROP ATTRIBUTE " + n, k);
			for (auto &[n, t] : ta) {
				if (!fm.count(n))
					emit(P_TYPES, "ALTER TYPE " + name_of(k) + " ADD ATTRIBUTE " + n + " " + t, k);
				else if (fm[n] != t && !columns_of_type(name_of(k)).empty())
					refuse(k, "composite type " + name_of(k) + " changes the type of attribute " + n + " (" + fm[n] + " -> " + t +
					              ") and column " + name_of(columns_of_type(name_of(k))[0]) +
					              " is of that type: PostgreSQL refuses that; write the migration by hand", "");
				else if (fm[n] != t) {
					emit(P_DROP_FUNCTIONS_EARLY, "ALTER TYPE " + name_of(k) + " ALTER ATTRIBUTE " + n + " TYPE " + t, k);
					retyped_columns.insert(name_of(k) + "." + n);
				}
			}
		}
		for (auto &k : keys(from, "type"))
			if (!to.count(k))
				emit(P_DROP_TYPES, "DROP TYPE " + name_of(k), k);
	}

	// -----------------------------------------------------------------------
	// Tables and columns

	// An identity's sequence options (the column entry's "identity_options") as the
	// clause of GENERATED ... AS IDENTITY: only those that differ from what PostgreSQL
	// picks by itself for the column's type, so a plain identity stays plain.
	// The sequence's name when it is not the one PostgreSQL picks by itself
	// (table_column_seq): drizzle's `sequence name "x"`; `name` instead, when given.
	static std::string identity_options_clause(const JsonValue &c, const std::string &table, const std::string &col,
	                                           const std::string &name = "") {
		const JsonValue *o = c.find("identity_options");
		if (!o || o->kind != JsonValue::Kind::Object)
			return "";
		std::string seq_clause;
		if (std::string seq = name.empty() ? sget(*o, "sequence") : name; !seq.empty()) {
			auto parts = split_qualified(table);
			std::string dflt = parts.size() == 2 ? bare_ident(parts[1]) + "_" + bare_ident(col) + "_seq" : "";
			if (!name.empty() || bare_ident(seq) != dflt || dflt.size() > 63)
				seq_clause = "SEQUENCE NAME " + (parts.size() == 2 ? parts[0] + "." : "") + seq;
		}
		auto num = [&](const char *k, int64_t dflt) {
			const JsonValue *v = o->find(k);
			return v && v->kind == JsonValue::Kind::Number && v->is_integer ? v->integer : dflt;
		};
		std::string type = sget(c, "type");
		int64_t tmax = type == "smallint" ? 32767 : type == "integer" ? 2147483647 : INT64_MAX;
		int64_t tmin = type == "smallint" ? -32768 : type == "integer" ? -2147483647 - 1 : INT64_MIN;
		int64_t inc = num("increment", 1);
		int64_t mn = num("min", inc > 0 ? 1 : tmin), mx = num("max", inc > 0 ? tmax : -1);
		std::string out;
		auto add = [&](const std::string &s) { out += (out.empty() ? "" : " ") + s; };
		if (!seq_clause.empty())
			add(seq_clause);
		if (inc != 1)
			add("INCREMENT BY " + std::to_string(inc));
		if (mn != (inc > 0 ? 1 : tmin))
			add("MINVALUE " + std::to_string(mn));
		if (mx != (inc > 0 ? tmax : -1))
			add("MAXVALUE " + std::to_string(mx));
		if (num("start", inc > 0 ? mn : mx) != (inc > 0 ? mn : mx))
			add("START WITH " + std::to_string(num("start", 0)));
		if (num("cache", 1) != 1)
			add("CACHE " + std::to_string(num("cache", 1)));
		if (bget(*o, "cycle"))
			add("CYCLE");
		return out.empty() ? "" : " (" + out + ")";
	}

	// SET clauses for the identity options that differ between two column entries
	// that are both identities ("" when none does).
	static std::string identity_options_changes(const JsonValue &f, const JsonValue &c) {
		const JsonValue *fo = f.find("identity_options"), *to = c.find("identity_options");
		if (!to || to->kind != JsonValue::Kind::Object)
			return "";
		auto val = [](const JsonValue *o, const char *k) { return o ? sget(*o, k) : std::string(); };
		std::string out;
		static const std::pair<const char *, const char *> opts[] = {
		    {"increment", " SET INCREMENT BY "}, {"min", " SET MINVALUE "}, {"max", " SET MAXVALUE "},
		    {"start", " SET START WITH "},       {"cache", " SET CACHE "}};
		for (auto &[k, clause] : opts)
			if (!val(to, k).empty() && val(fo, k) != val(to, k))
				out += clause + val(to, k);
		if (val(fo, "cycle") != val(to, "cycle") && !val(to, "cycle").empty())
			out += bget(*to, "cycle") ? " SET CYCLE" : " SET NO CYCLE";
		return out;
	}

	static std::string column_def(const std::string &name, const JsonValue &c, const std::string &table) {
		std::string sql = name + " " + sget(c, "type");
		if (!sget(c, "collation").empty())
			sql += " COLLATE " + sget(c, "collation");
		if (!sget(c, "generated").empty())
			sql += " GENERATED ALWAYS AS (" + sget(c, "generated") + ") STORED";
		if (!sget(c, "identity").empty())
			sql += " GENERATED " + std::string(sget(c, "identity") == "always" ? "ALWAYS" : "BY DEFAULT") + " AS IDENTITY" +
			       identity_options_clause(c, table, name);
		if (!sget(c, "default").empty())
			sql += " DEFAULT " + sget(c, "default");
		if (bget(c, "not_null"))
			sql += " NOT NULL";
		return sql;
	}

	std::vector<std::string> ordered_columns(const Snap &s, const std::string &table) const {
		auto cols = children(s, "column", table);
		std::sort(cols.begin(), cols.end(), [&](const std::string &a, const std::string &b) {
			return s.at(a).find("position") && s.at(b).find("position")
			           ? s.at(a).find("position")->integer < s.at(b).find("position")->integer
			           : a < b;
		});
		return cols;
	}

	void plan_tables() {
		// New tables, parents before partitions and inheriting tables.
		std::vector<std::string> todo;
		for (auto &k : keys(to, "table"))
			if (!from.count(k))
				todo.push_back(name_of(k));
		for (auto &t : todo)
			new_tables.insert(t);
		std::set<std::string> done;
		while (done.size() < todo.size()) {
			size_t before = done.size();
			for (auto &t : todo) {
				if (done.count(t))
					continue;
				bool ready = true;
				for (auto &p : parents(to, t))
					ready &= !new_tables.count(p) || done.count(p);
				if (!ready)
					continue;
				create_table(t);
				done.insert(t);
			}
			if (done.size() == before) {  // a cycle cannot happen; be safe
				for (auto &t : todo)
					if (!done.count(t)) {
						create_table(t);
						done.insert(t);
					}
			}
		}
		for (auto &k : keys(to, "table"))
			if (from.count(k))
				alter_table(name_of(k));
		emit_sequence_renames();
		emit_persistence_changes();
		drop_tables();
	}

	// Identity sequences renamed (a table renamed keeps the old name): a name another
	// identity's sequence still holds is taken once that one is renamed away; held by
	// one whose column or table goes, that one takes a temporary name first (it goes
	// with its column); a cycle goes through temporary names. Held by anything that
	// stays, the rename waits for a later run rather than fail this one.
	struct SeqRename {
		std::string schema, from, to, ck;
	};
	std::vector<SeqRename> seq_renames;
	void emit_sequence_renames() {
		// identity sequences on the `from` side: schema + "." + name -> column key
		std::map<std::string, std::string> held;
		for (auto &ck : keys(from, "column"))
			if (const JsonValue *o = from.at(ck).find("identity_options"))
				if (std::string n = sget(*o, "sequence"); !n.empty())
					if (auto q = split_qualified(name_of(ck)); q.size() == 3)
						held[q[0] + "." + n] = ck;
		std::vector<SeqRename> pending = std::move(seq_renames);
		auto renaming_away = [&](const std::string &qn, const SeqRename *self) {
			for (auto &r : pending)
				if (&r != self && r.schema + "." + r.from == qn)
					return true;
			return false;
		};
		while (!pending.empty()) {
			bool progress = false;
			for (size_t i = 0; i < pending.size();) {
				SeqRename r = pending[i];
				std::string target = r.schema + "." + r.to;
				if (renaming_away(target, &pending[i])) {
					++i;
					continue;
				}
				if (auto h = held.find(target); h != held.end() && !to.count(h->second)) {
					std::string tmp = suffixed_ident(r.to, "__dbkit_old");  // goes with its column
					emit(P_ALTER_COLUMNS, "ALTER SEQUENCE " + target + " RENAME TO " + tmp, h->second);
					held.erase(h);
				} else if (h != held.end() || (relation_taken(target) && !held.count(target))) {
					pending.erase(pending.begin() + static_cast<long>(i));  // held by what stays: not now
					progress = true;
					continue;
				}
				emit(P_ALTER_COLUMNS, "ALTER SEQUENCE " + r.schema + "." + r.from + " RENAME TO " + r.to, r.ck);
				held.erase(r.schema + "." + r.from);
				held[target] = r.ck;
				pending.erase(pending.begin() + static_cast<long>(i));
				progress = true;
			}
			if (!progress) {  // a cycle: the first one steps aside under a temporary name
				SeqRename &r = pending.front();
				std::string tmp = suffixed_ident(r.from, "__dbkit_tmp");
				emit(P_ALTER_COLUMNS, "ALTER SEQUENCE " + r.schema + "." + r.from + " RENAME TO " + tmp, r.ck);
				held.erase(r.schema + "." + r.from);
				r.from = tmp;
			}
		}
	}

	// A permanent table may not reference an unlogged one: SET LOGGED goes to the
	// referenced tables before those that reference them, SET UNLOGGED the other way
	// round (a cycle is left in name order: PostgreSQL refuses it either way).
	void emit_persistence_changes() {
		auto refs = [&](const std::string &a, const std::string &b) {  // a has a foreign key to b
			for (const Snap *side : {&from, &to})
				for (auto &k : keys(*side, "constraint"))
					if (constraint_table(k) == a && sget(side->at(k), "type") == "foreign key" &&
					    mentions(sget(side->at(k), "definition"), b))
						return true;
			return false;
		};
		auto unlogged = [&](const std::string &t) { return bget(to.at("table:" + t), "unlogged"); };
		std::vector<std::string> todo = persistence_changes, order;
		while (!todo.empty()) {
			size_t pick = todo.size();
			for (size_t i = 0; i < todo.size() && pick == todo.size(); ++i) {
				bool blocked = false;
				for (auto &o : todo)
					if (o != todo[i] && unlogged(o) == unlogged(todo[i]))
						blocked |= unlogged(todo[i]) ? refs(o, todo[i]) : refs(todo[i], o);
				if (!blocked)
					pick = i;
			}
			if (pick == todo.size())
				pick = 0;
			order.push_back(todo[pick]);
			todo.erase(todo.begin() + static_cast<std::ptrdiff_t>(pick));
		}
		for (auto &t : order) {
			auto &st = emit(P_ALTER_COLUMNS, "ALTER TABLE " + t + (unlogged(t) ? " SET UNLOGGED" : " SET LOGGED"), "table:" + t);
			hazard(st, Hazard::TableRewrite, "rewrites table " + t);
			hazard(st, Hazard::AccessExclusive, "lock: ACCESS EXCLUSIVE on " + t);
		}
	}

	void create_table(const std::string &t) {
		const JsonValue &tv = to.at("table:" + t);
		std::string kind = sget(tv, "kind");
		if (kind == "foreign") {
			refuse("table:" + t, "foreign table " + t + ": dbkit does not create foreign tables (they need a server and options the snapshot does not carry)", "");
			return;
		}
		std::string part_of = sget(tv, "partition_of");
		auto inh = strings(tv, "inherits");
		// Columns a parent gives are not listed; the alter pass below compares what the
		// parent gives (default, NOT NULL) with what the desired side shows.
		std::map<std::string, std::string> inherited;  // column name -> the parent's column key
		for (auto &p : parents(to, t))
			for (auto &ck : children(to, "column", p))
				inherited.emplace(split_qualified(name_of(ck))[2], ck);
		std::string sql = std::string("CREATE ") + (bget(tv, "unlogged") ? "UNLOGGED " : "") + "TABLE " + t;
		if (!part_of.empty())
			sql += " PARTITION OF " + part_of + " " + sget(tv, "partition_bound");
		else {
			std::vector<std::string> cols;
			for (auto &ck : ordered_columns(to, t)) {
				std::string cn = split_qualified(name_of(ck))[2];
				if (!inherited.count(cn))
					cols.push_back(column_def(cn, to.at(ck), t));
			}
			sql += " (" + (cols.empty() ? std::string() : "\n    " + join(cols, ",\n    ") + "\n") + ")";
			if (!inh.empty())
				sql += " INHERITS (" + join(inh, ", ") + ")";
		}
		if (!sget(tv, "partition_key").empty())
			sql += " PARTITION BY " + sget(tv, "partition_key");
		auto options = strings(tv, "options");
		if (!options.empty())
			sql += " WITH (" + join(options, ", ") + ")";
		emit(P_CREATE_TABLES, sql, "table:" + t);
		for (auto &ck : children(to, "column", t)) {
			auto in = inherited.find(split_qualified(name_of(ck))[2]);
			from[ck] = in == inherited.end() ? to.at(ck) : to.at(in->second);
		}
		// the columns a partition or child table gets from its parent, to compare below
		JsonValue tcopy = tv;
		tcopy.members.erase(std::remove_if(tcopy.members.begin(), tcopy.members.end(),
		                                   [](auto &m) { return m.first == "row_security" || m.first == "force_row_security" ||
		                                                        m.first == "replica_identity"; }),
		                    tcopy.members.end());
		from["table:" + t] = tcopy;
		alter_columns(t);
		table_flags(t);
	}

	void alter_table(const std::string &t) {
		const JsonValue &f = from.at("table:" + t), &tv = to.at("table:" + t);
		std::string obj = "table:" + t;
		if (sget(f, "kind") != sget(tv, "kind") || sget(f, "partition_key") != sget(tv, "partition_key")) {
			auto shape = [&](const JsonValue &x) {
				return sget(x, "kind") + (sget(x, "partition_key").empty() ? "" : " " + sget(x, "partition_key"));
			};
			refuse(obj, "table " + t + " changes from " + shape(f) + " to " + shape(tv) +
			                ": dbkit does not plan that (the table must be created again); write the migration by hand",
			       "");
			return;
		}
		if (sget(f, "partition_of") != sget(tv, "partition_of") || sget(f, "partition_bound") != sget(tv, "partition_bound")) {
			if (!sget(f, "partition_of").empty())
				emit(P_TABLE_ATTRS, "ALTER TABLE " + sget(f, "partition_of") + " DETACH PARTITION " + t, obj);
			if (!sget(tv, "partition_of").empty()) {
				auto &s = emit(P_TABLE_ATTRS, "ALTER TABLE " + sget(tv, "partition_of") + " ATTACH PARTITION " + t + " " +
				                                  sget(tv, "partition_bound"),
				               obj);
				hazard(s, Hazard::Validation, "scans " + t + " to check the partition bound");
			}
		}
		auto fi = strings(f, "inherits"), ti = strings(tv, "inherits");
		for (auto &p : fi)
			if (std::find(ti.begin(), ti.end(), p) == ti.end())
				emit(P_TABLE_ATTRS, "ALTER TABLE " + t + " NO INHERIT " + p, obj);
		for (auto &p : ti)
			if (std::find(fi.begin(), fi.end(), p) == fi.end())
				emit(P_TABLE_ATTRS, "ALTER TABLE " + t + " INHERIT " + p, obj);
		if (bget(f, "unlogged") != bget(tv, "unlogged"))
			persistence_changes.push_back(t);  // emit_persistence_changes(), in foreign key order
		auto fo = strings(f, "options"), to_ = strings(tv, "options");
		if (fo != to_) {
			std::vector<std::string> reset;
			for (auto &o : fo) {
				std::string n = o.substr(0, o.find('='));
				bool still = false;
				for (auto &o2 : to_)
					still |= o2.substr(0, o2.find('=')) == n;
				if (!still)
					reset.push_back(n);
			}
			if (!reset.empty())
				emit(P_TABLE_ATTRS, "ALTER TABLE " + t + " RESET (" + join(reset, ", ") + ")", obj);
			if (!to_.empty())
				emit(P_TABLE_ATTRS, "ALTER TABLE " + t + " SET (" + join(to_, ", ") + ")", obj);
		}
		alter_columns(t);
		table_flags(t);
	}

	// Row security and replica identity, after the indexes it may name.
	void table_flags(const std::string &t) {
		const JsonValue &f = from.at("table:" + t), &tv = to.at("table:" + t);
		std::string obj = "table:" + t;
		if (bget(f, "row_security") != bget(tv, "row_security"))
			emit(P_TABLE_ATTRS, "ALTER TABLE " + t + (bget(tv, "row_security") ? " ENABLE" : " DISABLE") + " ROW LEVEL SECURITY", obj);
		if (bget(f, "force_row_security") != bget(tv, "force_row_security"))
			emit(P_TABLE_ATTRS, "ALTER TABLE " + t + (bget(tv, "force_row_security") ? " FORCE" : " NO FORCE") + " ROW LEVEL SECURITY", obj);
		if (sget(f, "replica_identity") != sget(tv, "replica_identity")) {
			std::string ri = sget(tv, "replica_identity");
			std::string clause = ri.empty() ? "DEFAULT" : ri == "full" ? "FULL" : ri == "nothing" ? "NOTHING" : "USING INDEX " + ri.substr(6);
			emit(P_TABLE_ATTRS, "ALTER TABLE " + t + " REPLICA IDENTITY " + clause, obj);
		}
	}

	// Does the partitioned parent of `t` make the same NOT NULL change on column `cn`?
	bool follows_parent(const std::string &t, const std::string &cn, bool fnn, bool tnn) const {
		auto *ft = get(from, "table:" + t), *tt = get(to, "table:" + t);
		if (!ft || !tt || sget(*tt, "partition_of").empty() || sget(*ft, "partition_of") != sget(*tt, "partition_of"))
			return false;
		std::string key = "column:" + sget(*tt, "partition_of") + "." + cn;
		auto *pf = get(from, key), *pt = get(to, key);
		return pf && pt && bget(*pf, "not_null") == fnn && bget(*pt, "not_null") == tnn;
	}

	// The parents of `t` (PARTITION OF, INHERITS) on both sides: what their ALTER TABLE
	// does to a column recurses to `t`. A parent `t` attaches to or starts inheriting
	// in this plan is not one (that happens after the column changes, P_TABLE_ATTRS).
	std::vector<std::string> stable_parents(const std::string &t) const {
		auto parents_in = [&](const Snap &s) {
			std::vector<std::string> out;
			auto *e = get(s, "table:" + t);
			if (!e)
				return out;
			out = strings(*e, "inherits");
			if (!sget(*e, "partition_of").empty())
				out.push_back(sget(*e, "partition_of"));
			return out;
		};
		std::vector<std::string> was = parents_in(from), out;
		for (auto &p : parents_in(to))
			if (std::find(was.begin(), was.end(), p) != was.end())
				out.push_back(p);
		return out;
	}
	// Does a stable parent have the column `cn` on both sides (so `t`'s is inherited)?
	std::string inherited_from(const std::string &t, const std::string &cn) const {
		for (auto &p : stable_parents(t))
			if (from.count("column:" + p + "." + cn) && to.count("column:" + p + "." + cn))
				return p;
		return "";
	}

	// Does a parent of `t` (PARTITION OF or INHERITS, on both sides) change its column
	// `cn` to this type and collation too? Then its ALTER ... TYPE recurses to `t`.
	// Returns that parent's column key, or "".
	std::string parent_retypes(const std::string &t, const std::string &cn, const std::string &tt, const std::string &tcol) const {
		for (auto &p : stable_parents(t)) {
			auto *pf = get(from, "column:" + p + "." + cn), *pt = get(to, "column:" + p + "." + cn);
			if (pf && pt && sget(*pt, "type") == tt && sget(*pt, "collation") == tcol &&
			    (sget(*pf, "type") != tt || sget(*pf, "collation") != tcol))
				return "column:" + p + "." + cn;
		}
		return "";
	}

	// Functions this plan drops (removed, or created again because CREATE OR REPLACE cannot
	// change their parameters' names or their result) while a column default, a generated
	// column, a check (a table's or a domain's), an index or a policy that stays calls
	// them: PostgreSQL refuses DROP FUNCTION under those. The callers are detached first,
	// the function is dropped and every function of its name created early
	// (P_DROP_FUNCTIONS_EARLY, P_FUNCTIONS_EARLY), and the callers come back in their
	// usual phases, after it: the text they call (f(1)) then binds to the new function.
	std::set<std::string> going_functions;        // "s.f(args)" dropped early
	std::set<std::string> early_function_names;   // "s.f": its functions dropped and created early
	std::set<std::string> detached_defaults;      // column keys whose default is dropped first
	std::map<std::string, std::string> gen_calls_going;   // generated column key -> the function it calls
	std::map<std::string, std::string> policy_calls_going;  // policy key -> the function it calls
	std::set<std::string> detached_domain_checks;  // "domain:s.d\nname"

	void detach_function_callers() {
		std::set<std::string> going;
		for (auto &k : keys(from, "function")) {
			auto *t = get(to, k);
			if (!t || header_line(sget(*t, "definition")) != header_line(sget(from.at(k), "definition")))
				going.insert(name_of(k));
		}
		if (going.empty())
			return;
		auto call_of = [&](const std::string &expr, bool as_written = false) -> std::string {
			for (auto &g : going)
				if (calls(expr, g, as_written))
					return g;
			return "";
		};
		auto mark = [&](const std::string &g) {
			going_functions.insert(g);
			early_function_names.insert(g.substr(0, g.find('(')));
		};
		// Callers that go away with their table or column are detached early too: the
		// function is dropped before DROP TABLE and DROP COLUMN run.
		for (auto &ck : keys(from, "column")) {
			auto cp = split_qualified(name_of(ck));
			std::string t = qname_of(cp, 2), alter = "ALTER TABLE " + t + " ALTER COLUMN " + cp[2];
			if (!table_in(from, t) || !inherited_from(t, cp[2]).empty())
				continue;  // a view's column; an inherited one follows its parent's
			bool stays = to.count(ck) && table_in(to, t);
			if (auto g = call_of(sget(from.at(ck), "default")); !g.empty()) {
				if (stays)
					detached_defaults.insert(ck);
				else
					emit(P_DROP_CONSTRAINTS, alter + " DROP DEFAULT", ck).comment = "it calls " + g + ", dropped before this goes";
				mark(g);
			}
			if (auto g = call_of(sget(from.at(ck), "generated")); !g.empty()) {
				if (stays && !sget(to.at(ck), "generated").empty())
					gen_calls_going[ck] = g;
				else {
					emit(P_DROP_CONSTRAINTS, alter + " DROP EXPRESSION", ck).comment =
					    "it calls " + g + ", which is dropped" + (stays ? "" : " before this goes");
					early_drop_expression.insert(ck);
				}
				mark(g);
			}
		}
		for (auto &k : keys(from, "constraint")) {
			std::string type = sget(from.at(k), "type"), t = constraint_table(k);
			if ((type != "check" && type != "exclusion") || !table_in(from, t))
				continue;
			if (auto g = call_of(sget(from.at(k), "definition")); !g.empty()) {
				if (to.count(k) && table_in(to, t))
					recreate.insert(k);
				else if (!table_in(to, t))
					emit(P_DROP_CONSTRAINTS, "ALTER TABLE " + t + " DROP CONSTRAINT " + last_name(k), k).comment =
					    "it calls " + g + ", dropped before the table goes";
				mark(g);  // one removed from a table that stays is dropped before anyway
			}
		}
		for (auto &k : keys(from, "index")) {
			std::string t = sget(from.at(k), "table");
			if (!table_in(from, t))
				continue;  // a materialized view's: goes with it, before
			if (auto g = call_of(sget(from.at(k), "definition")); !g.empty()) {
				if (to.count(k) && table_in(to, t))
					recreate.insert(k);
				else if (!table_in(to, t))
					emit(P_DROP_INDEXES, "DROP INDEX " + name_of(k), k).comment = "it calls " + g + ", dropped before the table goes";
				mark(g);
			}
		}
		for (auto &k : keys(from, "policy")) {
			std::string t = constraint_table(k);
			if (!table_in(from, t))
				continue;
			if (auto g = call_of(sget(from.at(k), "using") + " " + sget(from.at(k), "with_check")); !g.empty()) {
				if (to.count(k) && table_in(to, t))
					policy_calls_going[k] = g;
				else if (!table_in(to, t))
					emit(P_DROP_POLICIES, "DROP POLICY " + last_name(k) + " ON " + t, k).comment =
					    "it calls " + g + ", dropped before the table goes";
				mark(g);
			}
		}
		// SQL-standard bodies calling it: PostgreSQL records that call; dropped before it
		for (auto &k : keys(from, "function")) {
			std::string def = sget(from.at(k), "definition");
			size_t body = def.find("BEGIN ATOMIC");
			if (body == std::string::npos)
				continue;
			if (auto g = call_of(def.substr(body)); !g.empty() && g != name_of(k)) {
				atomic_calls_going["function:" + name_of(k)] = g;
				mark(g);
			}
		}
		for (auto &k : keys(from, "domain")) {
			bool stays = to.count(k) > 0;
			if (auto g = call_of(sget(from.at(k), "default"), true); !g.empty()) {
				if (stays)
					detached_domain_checks.insert(k + "\n");  // "" stands for the default
				else
					emit(P_TYPES, "ALTER DOMAIN " + name_of(k) + " DROP DEFAULT", k);
				mark(g);
			}
			if (auto *c = from.at(k).find("constraints"))
				for (auto &m : c->members)
					if (auto g = call_of(m.second.string); !g.empty()) {
						if (stays)
							detached_domain_checks.insert(k + "\n" + catalog_ident(m.first));
						else
							emit(P_TYPES, "ALTER DOMAIN " + name_of(k) + " DROP CONSTRAINT " + catalog_ident(m.first), k);
						mark(g);
					}
		}
	}
	std::set<std::string> early_drop_expression;  // generated columns made plain before a function they call goes
	std::map<std::string, std::string> atomic_calls_going;  // BEGIN ATOMIC function key -> the function it calls

	// The enum created again that the generated column `ck` of `t` reads (a column of that
	// type, or the type named in its expression), or "".
	std::string reads_recreated_enum(const std::string &t, const std::string &ck) const {
		auto *f = get(from, ck);
		std::string fg = f ? sget(*f, "generated") : "";
		if (fg.empty())
			return "";
		for (auto &[q, tmp] : recreated_enums) {
			if (mentions(fg, q))
				return q;
			for (auto &ok : children(from, "column", t))
				if (ok != ck && names_type_of(from.at(ok), q) && names_ident(fg, split_qualified(name_of(ok))[2]))
					return q;
		}
		return "";
	}

	// Why the generated column `ck` of `t` is dropped and added again, or "": PostgreSQL 15
	// cannot change a generation expression in place, and refuses a type change of a
	// column it reads.
	std::string regen_reason(const std::string &t, const std::string &ck) const {
		auto *f = get(from, ck), *c = get(to, ck);
		std::string tg = c ? sget(*c, "generated") : "";
		if (!f || tg.empty())
			return "";
		if (sget(*f, "generated") != tg)
			return "a generated column's expression changes: the column is dropped and added again (it moves to the end)";
		if (auto g = gen_calls_going.find(ck); g != gen_calls_going.end())
			return "its expression calls " + g->second + ", which is dropped (PostgreSQL refuses that under a generated "
			       "column): the column is dropped and added again (it moves to the end)";
		if (std::string e = reads_recreated_enum(t, ck); !e.empty())
			return "its expression reads enum " + e + ", which is created again (PostgreSQL refuses the column's change "
			       "under a generated column): the column is dropped and added again (it moves to the end)";
		std::string cn = split_qualified(name_of(ck))[2];
		for (auto &ok : ordered_columns(to, t)) {
			auto *of = get(from, ok);
			std::string oc = split_qualified(name_of(ok))[2];
			if (!of || oc == cn)
				continue;
			if ((sget(*of, "type") != sget(to.at(ok), "type") || sget(*of, "collation") != sget(to.at(ok), "collation")) &&
			    names_ident(tg, oc))
				return "its expression reads " + t + "." + oc + ", whose type changes (PostgreSQL refuses that under a "
				       "generated column): the column is dropped and added again (it moves to the end)";
		}
		return "";
	}

	// What stands on a generated column dropped and added again goes first and comes
	// back: views and policies through the retyped sets, and the table's indexes,
	// constraints and triggers naming it.
	void regenerated_dependents(const std::string &t, const std::string &ck) {
		std::string cn = split_qualified(name_of(ck))[2];
		retyped_tables.insert(t);
		retyped_columns.insert(name_of(ck));
		readded_columns.insert(name_of(ck));
		for (const char *kind : {"index", "constraint", "trigger"})
			for (auto &k : keys(from, kind)) {
				const JsonValue &o = from.at(k);
				std::string table = std::string(kind) == "index" ? sget(o, "table") : constraint_table(k);
				if (table == t && to.count(k) && names_ident(sget(o, "definition"), cn))
					recreate.insert(k);
			}
	}

	void alter_columns(const std::string &t) {
		bool existing = existed(t);
		bool part = partitioned(to, t);
		// added, in the desired order
		for (auto &ck : ordered_columns(to, t)) {
			if (from.count(ck))
				continue;
			std::string cn = split_qualified(name_of(ck))[2];
			const JsonValue &c = to.at(ck);
			auto &s = emit(P_ALTER_COLUMNS, "ALTER TABLE " + t + " ADD COLUMN " + column_def(cn, c, t), ck);
			if (!sget(c, "generated").empty() || !sget(c, "identity").empty()) {
				hazard(s, Hazard::TableRewrite, "rewrites table " + t + " (the column is computed for every row)");
				hazard(s, Hazard::AccessExclusive, "lock: ACCESS EXCLUSIVE on " + t);
			} else if (bget(c, "not_null") && sget(c, "default").empty())
				hazard(s, Hazard::FailsOnData, "fails if " + t + " has rows: NOT NULL without a default");
		}
		// Generated columns dropped and added again (PostgreSQL 15 cannot change a
		// generation expression in place): a new or changed expression, and an unchanged
		// one computed from a column whose type changes (PostgreSQL refuses that type
		// change under it). All are dropped before the table's other column changes and
		// added after them; what depends on them (indexes, constraints, triggers naming
		// them, views reading them, the table's policies) is dropped first and made again.
		// A partition's or inheriting table's generated column follows its parent's: the
		// parent's DROP and ADD COLUMN recurse; what stands on the child's goes and comes back.
		std::vector<std::string> regen, regen_inherited;
		std::map<std::string, std::string> regen_why;
		for (auto &ck : ordered_columns(to, t)) {
			std::string cn = split_qualified(name_of(ck))[2];
			if (std::string p = inherited_from(t, cn); !p.empty()) {
				if (!regen_reason(p, "column:" + p + "." + cn).empty())
					regen_inherited.push_back(ck);
				continue;
			}
			if (std::string why = regen_reason(t, ck); !why.empty()) {
				regen.push_back(ck);
				regen_why[ck] = why;
			}
		}
		for (auto &ck : regen_inherited)
			regenerated_dependents(t, ck);
		for (auto &ck : regen) {
			std::string cn = split_qualified(name_of(ck))[2];
			const JsonValue &f = from.at(ck);
			// before the function it calls is dropped, when that is why
			auto &d = emit(gen_calls_going.count(ck) || !reads_recreated_enum(t, ck).empty() ? P_DROP_FUNCTIONS_EARLY
			                                                                                  : P_ALTER_COLUMNS,
			               "ALTER TABLE " + t + " DROP COLUMN " + cn, ck);
			d.comment = regen_why[ck];
			if (sget(f, "generated").empty()) {
				hazard(d, Hazard::DataLoss, "data loss: drops column " + t + "." + cn + " to make it generated");
				d.table_for_rowcount = t;
			}
			regenerated_dependents(t, ck);
		}
		// changed
		for (auto &ck : ordered_columns(to, t)) {
			auto *fp = get(from, ck);
			if (!fp)
				continue;
			if (std::find(regen.begin(), regen.end(), ck) != regen.end() ||
			    std::find(regen_inherited.begin(), regen_inherited.end(), ck) != regen_inherited.end())
				continue;
			const JsonValue &f = *fp, &c = to.at(ck);
			std::string cn = split_qualified(name_of(ck))[2];
			std::string alter = "ALTER TABLE " + t + " ALTER COLUMN " + cn;
			std::string fg = sget(f, "generated"), tg = sget(c, "generated");
			if (fg != tg && tg.empty() && !early_drop_expression.count(ck))
				emit(P_ALTER_COLUMNS, alter + " DROP EXPRESSION", ck);
			std::string ft = sget(f, "type"), tt = sget(c, "type");
			std::string fcol = sget(f, "collation"), tcol = sget(c, "collation");
			std::string fd = sget(f, "default"), td = sget(c, "default");
			if (detached_defaults.count(ck) && !fd.empty()) {
				emit(P_DROP_CONSTRAINTS, alter + " DROP DEFAULT", ck).comment =
				    "it calls a function that is dropped below: set again after it";
				fd.clear();
			}
			bool retype = ft != tt || fcol != tcol;
			bool child_default_late = false;
			if (retype && names_ident(sget(to.at("table:" + t), "partition_key"), cn)) {
				refuse(ck, "column " + name_of(ck) + " is in the partition key of " + t + " and changes type (" + ft + " -> " +
				               tt + "): PostgreSQL cannot alter it, the table must be created again; write that migration by hand",
				       "");
				continue;
			}
			if (retype && !columns_of_type(t).empty()) {
				refuse(ck, "column " + name_of(ck) + " changes type and column " + name_of(columns_of_type(t)[0]) + " is of " + t +
				               "'s row type: PostgreSQL refuses that; write the migration by hand", "");
				continue;
			}
			if (retype)
				for (auto &rk : keys(from, "rule"))  // PostgreSQL blocks only a rule that reads the column
					if (mentions(sget(from.at(rk), "definition"), t) && names_ident(sget(from.at(rk), "definition"), cn)) {
						refuse(ck, "column " + name_of(ck) + " changes type and rule " + name_of(rk) + " reads " + t +
						               ": PostgreSQL refuses that under a rule, and dbkit does not plan rules; write the migration "
						               "by hand", "");
						retype = false;
						break;
					}
			if (std::string pk = retype ? parent_retypes(t, cn, tt, tcol) : ""; !pk.empty()) {
				// the parent's ALTER ... TYPE recurses here (PostgreSQL refuses it on an
				// inherited column), and so do the DROP DEFAULT and SET DEFAULT around it;
				// what reads this column still goes and comes back
				retyped_tables.insert(t);
				retyped_columns.insert(name_of(ck));
				retype = false;
				if (!sget(from.at(pk), "default").empty())
					fd = sget(to.at(pk), "default");
				child_default_late = true;  // after the parent's, which recurse here
			}
			if (retype && !fd.empty()) {
				emit(P_ALTER_COLUMNS, alter + " DROP DEFAULT", ck);
				fd.clear();
			}
			if (retype) {
				std::string using_ = ft != tt ? " USING " + cn + "::" + tt : "";
				auto &s = emit(P_ALTER_COLUMNS,
				               alter + " TYPE " + tt + (tcol.empty() ? "" : " COLLATE " + tcol) + using_, ck);
				bool rewrites = true;
				bool safe = ft == tt || widening(ft, tt, rewrites);
				if (ft == tt)
					rewrites = false;  // a collation change alone rebuilds indexes, not the table
				if (rewrites)
					hazard(s, Hazard::TableRewrite, "rewrites table " + t);
				hazard(s, Hazard::AccessExclusive, "lock: ACCESS EXCLUSIVE on " + t);
				if (fcol != tcol)  // the indexes on the column are built again under the new collation
					for (auto &ik : keys(from, "index")) {
						const JsonValue &iv = from.at(ik);
						std::string idef = sget(iv, "definition");
						if (sget(iv, "table") != t || !names_ident(idef.substr(std::min(idef.find(" ON "), idef.size())), cn))
							continue;
						hazard(s, Hazard::IndexBuild, "rebuilds index " + name_of(ik) + " on " + t + " (blocks writes meanwhile)");
						if (idef.compare(0, 20, "CREATE UNIQUE INDEX ") == 0)
							hazard(s, Hazard::FailsOnData,
							       "fails if two rows of " + t + " hold values of " + cn + " equal under collation " +
							           (tcol.empty() ? std::string("default") : tcol) + " (unique index " + name_of(ik) + ")");
					}
				if (!safe) {
					hazard(s, Hazard::DataLoss, "data loss: " + ft + " -> " + tt + " can fail or change values of " + t + "." + cn);
					s.table_for_rowcount = t;
				}
				if (ft != tt) {
					retyped_tables.insert(t);
					retyped_columns.insert(name_of(ck));
				}
			}
			std::string fi = sget(f, "identity"), ti = sget(c, "identity");
			if (auto is = identity_serials.find(ck); is != identity_serials.end()) {
				// identity -> serial: the new sequence continues where the identity's stopped
				// (started at 1 it would collide with the rows already there), then takes its name
				std::string seq = nextval_of(td);
				emit(P_ALTER_COLUMNS, "SELECT pg_catalog.setval(" + literal(is->second) +
				                          ", pg_catalog.nextval(pg_catalog.pg_get_serial_sequence(" + literal(t) + ", " +
				                          literal(bare_ident(cn)) + ")), false)",
				     ck)
				    .comment = "the serial's sequence continues where the identity's stopped";
				emit(P_ALTER_COLUMNS, alter + " DROP IDENTITY", ck);
				emit(P_ALTER_COLUMNS, "ALTER SEQUENCE " + is->second + " RENAME TO " + split_qualified(seq)[1], ck);
				emit(P_ALTER_COLUMNS, alter + " SET DEFAULT " + td, ck);
				emit(P_ALTER_COLUMNS, "ALTER SEQUENCE " + seq + " OWNED BY " + name_of(ck), ck);
				fi.clear();
				fd = td;
			}
			if (fd != td)
				emit(child_default_late ? P_TABLE_ATTRS : P_ALTER_COLUMNS, alter + (td.empty() ? " DROP DEFAULT" : " SET DEFAULT " + td), ck);
			if (!fi.empty() && fi != ti && ti.empty())
				emit(P_ALTER_COLUMNS, alter + " DROP IDENTITY", ck);
			bool fnn = bget(f, "not_null"), tnn = bget(c, "not_null");
			if (fnn != tnn && follows_parent(t, cn, fnn, tnn))
				fnn = tnn;  // the parent's SET/DROP NOT NULL recurses to its partitions
			if (fnn && !tnn)
				emit(P_ALTER_COLUMNS, alter + " DROP NOT NULL", ck);
			if (!fnn && tnn) {
				if (existing && !part) {
					std::string chk = short_name("dbkit_nn_", t + "." + cn);
					auto &a = emit(P_ALTER_COLUMNS,
					               "ALTER TABLE " + t + " ADD CONSTRAINT " + chk + " CHECK (" + cn + " IS NOT NULL) NOT VALID", ck);
					a.comment = "SET NOT NULL without a long ACCESS EXCLUSIVE scan: a validated check lets PostgreSQL skip it";
					auto &v = emit(P_ALTER_COLUMNS, "ALTER TABLE " + t + " VALIDATE CONSTRAINT " + chk, ck);
					hazard(v, Hazard::Validation, "scans " + t + " (SHARE UPDATE EXCLUSIVE: writes go on)");
					hazard(v, Hazard::FailsOnData, "fails if " + t + "." + cn + " holds NULLs");
					emit(P_ALTER_COLUMNS, alter + " SET NOT NULL", ck);
					emit(P_ALTER_COLUMNS, "ALTER TABLE " + t + " DROP CONSTRAINT " + chk, ck);
				} else {
					auto &s = emit(P_ALTER_COLUMNS, alter + " SET NOT NULL", ck);
					if (existing)
						hazard(s, Hazard::FailsOnData, "fails if " + t + "." + cn + " holds NULLs");
				}
			}
			if (fi.empty() && !ti.empty()) {
				// serial -> identity: the identity's new sequence starts at 1; it continues
				// where the column's old one stopped, or the next insert collides with the
				// rows already there (snapshots hold no sequence values: no round trip sees it).
				// The old one usually holds the name the identity's takes (t_id_seq): the new
				// one is made under another name and takes it once the old one is dropped.
				std::string old_seq = existing ? nextval_of(sget(f, "default")) : "";
				bool old_goes = !old_seq.empty() && !to.count("sequence:" + old_seq);
				const JsonValue *topts = c.find("identity_options");
				std::string want = topts ? sget(*topts, "sequence") : "";
				auto tparts = split_qualified(t), oparts = split_qualified(old_seq);
				bool takes_name = old_goes && !want.empty() && oparts.size() == 2 && tparts.size() == 2 &&
				                  oparts[0] == tparts[0] && bare_ident(oparts[1]) == bare_ident(want);
				std::string tmp = takes_name ? suffixed_ident(want, "__dbkit_new") : "";
				emit(P_ALTER_COLUMNS, alter + " ADD GENERATED " + std::string(ti == "always" ? "ALWAYS" : "BY DEFAULT") +
				                          " AS IDENTITY" + identity_options_clause(c, t, cn, tmp), ck);
				if (!old_seq.empty()) {
					if (old_goes) {  // owned by the column, pg_get_serial_sequence would be ambiguous
						emit(P_ALTER_COLUMNS, "ALTER SEQUENCE " + old_seq + " OWNED BY NONE", ck);
						for (auto &d : phases[P_DROP_SEQUENCES])  // its value goes on in the identity (setval below)
							if (d.sql == "DROP SEQUENCE IF EXISTS " + old_seq)
								clear_data_loss(d);
					}
					emit(P_ALTER_COLUMNS, "SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(" + literal(t) + ", " +
					                          literal(bare_ident(cn)) + "), s.last_value, s.is_called) FROM " + old_seq + " s",
					     ck)
					    .comment = "the identity continues where " + old_seq + " stopped (started at 1 it would collide with the "
					               "rows already there)";
					if (takes_name) {
						// dropped here: the drop planned with the other sequences would find the identity's under its name
						auto &late = phases[P_DROP_SEQUENCES];
						late.erase(std::remove_if(late.begin(), late.end(),
						                          [&](const DiffStatement &d) { return d.sql == "DROP SEQUENCE IF EXISTS " + old_seq; }),
						           late.end());
						emit(P_ALTER_COLUMNS, "DROP SEQUENCE " + old_seq, ck);
						emit(P_ALTER_COLUMNS, "ALTER SEQUENCE " + tparts[0] + "." + tmp + " RENAME TO " + want, ck);
					}
				}
			} else if (!fi.empty() && !ti.empty() && fi != ti)
				emit(P_ALTER_COLUMNS, alter + " SET GENERATED " + std::string(ti == "always" ? "ALWAYS" : "BY DEFAULT"), ck);
			// the identity's sequence options, after a type change (which moves a default
			// MAXVALUE/MINVALUE to the new type's by itself)
			if (!fi.empty() && !ti.empty()) {
				// the sequence's name: a renamed table keeps the old one
				const JsonValue *fo = f.find("identity_options"), *to_o = c.find("identity_options");
				std::string fs = fo ? sget(*fo, "sequence") : "", ts = to_o ? sget(*to_o, "sequence") : "";
				if (auto tp = split_qualified(t); !fs.empty() && !ts.empty() && fs != ts && tp.size() == 2)
					seq_renames.push_back({tp[0], fs, ts, ck});  // ordered once all are known
				std::string changes = identity_options_changes(f, c);
				if (!changes.empty()) {
					auto &s = emit(P_ALTER_COLUMNS, alter + changes, ck);
					// narrower bounds: PostgreSQL refuses them when the sequence's current value is outside
					const JsonValue *fo = f.find("identity_options"), *to = c.find("identity_options");
					auto n = [](const JsonValue *o, const char *k, int64_t d) {
						const JsonValue *v = o ? o->find(k) : nullptr;
						return v && v->kind == JsonValue::Kind::Number && v->is_integer ? v->integer : d;
					};
					if (n(to, "max", INT64_MAX) < n(fo, "max", INT64_MAX) || n(to, "min", INT64_MIN) > n(fo, "min", INT64_MIN))
						hazard(s, Hazard::FailsOnData,
						       "fails if the identity sequence of " + t + "." + cn + " is already past the new MINVALUE/MAXVALUE");
				}
			}
		}
		for (auto &ck : regen) {
			std::string cn = split_qualified(name_of(ck))[2];
			auto &a = emit(P_ALTER_COLUMNS, "ALTER TABLE " + t + " ADD COLUMN " + column_def(cn, to.at(ck), t), ck);
			hazard(a, Hazard::TableRewrite, "rewrites table " + t);
			hazard(a, Hazard::AccessExclusive, "lock: ACCESS EXCLUSIVE on " + t);
		}
		// dropped
		for (auto &ck : ordered_columns(from, t)) {
			if (to.count(ck))
				continue;
			std::string cn = split_qualified(name_of(ck))[2];
			auto &s = emit(P_DROP_COLUMNS, "ALTER TABLE " + t + " DROP COLUMN " + cn, ck);
			if (sget(from.at(ck), "generated").empty()) {
				hazard(s, Hazard::DataLoss, "data loss: drops column " + t + "." + cn);
				s.table_for_rowcount = t;
			}
		}
	}

	// Dropped tables: partitions and inheriting tables before their parents.
	void drop_tables() {
		std::vector<std::string> gone;
		for (auto &k : keys(from, "table"))
			if (!to.count(k))
				gone.push_back(name_of(k));
		std::set<std::string> done;
		while (done.size() < gone.size()) {
			size_t before = done.size();
			for (auto &t : gone) {
				if (done.count(t))
					continue;
				bool ready = true;
				for (auto &o : gone)
					if (!done.count(o) && o != t) {
						auto ps = parents(from, o);
						ready &= std::find(ps.begin(), ps.end(), t) == ps.end();
					}
				if (!ready)
					continue;
				auto &s = emit(P_DROP_TABLES, "DROP TABLE " + t, "table:" + t);
				hazard(s, Hazard::DataLoss, "data loss: drops table " + t);
				s.table_for_rowcount = t;
				done.insert(t);
			}
			if (done.size() == before)
				for (auto &t : gone)
					if (!done.count(t)) {
						auto &s = emit(P_DROP_TABLES, "DROP TABLE " + t, "table:" + t);
						hazard(s, Hazard::DataLoss, "data loss: drops table " + t);
						s.table_for_rowcount = t;
						done.insert(t);
					}
		}
	}

	// -----------------------------------------------------------------------
	// Constraints and indexes

	std::string constraint_table(const std::string &key) const { return qname_of(split_qualified(name_of(key)), 2); }
	std::string last_name(const std::string &key) const { return split_qualified(name_of(key)).back(); }

	// "REFERENCES s.t(a, b)" of a foreign key's definition: the table and the columns.
	static bool fk_references(const std::string &def, std::string &table, std::vector<std::string> &cols) {
		size_t r = def.find(" REFERENCES ");
		if (r == std::string::npos)
			return false;
		size_t open = def.find('(', r), close = def.find(')', open == std::string::npos ? r : open);
		if (open == std::string::npos || close == std::string::npos)
			return false;
		table = def.substr(r + 12, open - r - 12);
		cols.clear();
		for (auto &c : split_list(def.substr(open + 1, close - open - 1)))
			cols.push_back(c);
		return true;
	}
	// The key columns of a plain unique index (what a foreign key can stand on): false for
	// a partial index or one with an expression.
	static bool unique_index_columns(const std::string &def, std::vector<std::string> &cols) {
		size_t u = def.find(" USING ");
		size_t open = u == std::string::npos ? u : def.find('(', u);
		if (def.compare(0, 20, "CREATE UNIQUE INDEX ") != 0 || open == std::string::npos ||
		    def.find(" WHERE ", open) != std::string::npos)
			return false;
		int depth = 0;
		size_t close = open;
		for (; close < def.size(); ++close)
			if (def[close] == '(')
				++depth;
			else if (def[close] == ')' && --depth == 0)
				break;
		cols.clear();
		for (auto &item : split_list(def.substr(open + 1, close - open - 1))) {
			const std::string &c = item;
			if (c.find('(') != std::string::npos)
				return false;
			// without opclass, ordering, nulls: the first token ("Col A" stays whole)
			size_t end = c[0] == '"' ? c.find('"', 1) : c.find(' ');
			while (c[0] == '"' && end != std::string::npos && end + 1 < c.size() && c[end + 1] == '"')
				end = c.find('"', end + 2);
			cols.push_back(c[0] == '"' ? c.substr(0, end == std::string::npos ? end : end + 1) : c.substr(0, end));
		}
		return !cols.empty();
	}

	std::set<std::string> fks_after_indexes;  // foreign keys added again once the unique index they use is built

	void plan_constraints() {
		// A unique index (not a constraint's) dropped or changed on a table that stays: the
		// foreign keys standing on it (same table, same columns) would stop DROP INDEX, so
		// they are dropped first and added again after the new index exists, which may be
		// built concurrently in a migration of its own.
		for (auto &k : keys(from, "index")) {
			const JsonValue &f = from.at(k);
			std::string table = sget(f, "table");
			auto *t = get(to, k);
			std::vector<std::string> icols, rcols;
			if (!table_in(to, table) || (t && canon(*t) == canon(f) && !recreate.count(k)) ||
			    !unique_index_columns(sget(f, "definition"), icols))
				continue;
			std::sort(icols.begin(), icols.end());
			// a partitioned table's index has a copy on each partition, which goes with it
			auto under = descendants(table);
			under.push_back(table);
			for (auto &fk : keys(from, "constraint")) {
				std::string rt;
				if (sget(from.at(fk), "type") != "foreign key" || !to.count(fk) ||
				    !fk_references(sget(from.at(fk), "definition"), rt, rcols) ||
				    std::find(under.begin(), under.end(), rt) == under.end())
					continue;
				if (rt != table) {  // PostgreSQL's own copy of a foreign key to the parent goes and comes back with it
					std::string def = sget(from.at(fk), "definition"), head = def.substr(0, def.find(" REFERENCES "));
					bool copy = false;
					for (auto &other : children(from, "constraint", constraint_table(fk))) {
						std::string od = sget(from.at(other), "definition"), ot;
						std::vector<std::string> oc;
						copy |= other != fk && od.compare(0, head.size() + 12, head + " REFERENCES ") == 0 &&
						        fk_references(od, ot, oc) && ot == table;
					}
					if (copy)
						continue;
				}
				std::sort(rcols.begin(), rcols.end());
				if (rcols == icols) {
					recreate.insert(fk);
					fks_after_indexes.insert(fk);
				}
			}
		}
		// A foreign key (new or changed) whose referenced columns are those of a unique index
		// (not a constraint's) that is new or built again: it needs that index, so it is added
		// after the indexes ("there is no unique constraint matching given keys" otherwise).
		for (auto &fk : keys(to, "constraint")) {
			const JsonValue &c = to.at(fk);
			std::string rt;
			std::vector<std::string> rcols;
			auto *was = get(from, fk);
			if (sget(c, "type") != "foreign key" || (was && canon(*was) == canon(c) && !recreate.count(fk)) ||
			    !fk_references(sget(c, "definition"), rt, rcols))
				continue;
			std::sort(rcols.begin(), rcols.end());
			for (auto &ik : keys(to, "index")) {
				const JsonValue &i = to.at(ik);
				std::vector<std::string> icols;
				auto *had = get(from, ik);
				if (sget(i, "table") != rt || (had && canon(*had) == canon(i) && !recreate.count(ik)) ||
				    !unique_index_columns(sget(i, "definition"), icols))
					continue;
				std::sort(icols.begin(), icols.end());
				if (icols == rcols) {
					fks_after_indexes.insert(fk);
					break;
				}
			}
		}
		// A primary key or unique constraint dropped (or changed) on a table that stays:
		// the foreign keys that reference that table depend on its index and would stop
		// DROP CONSTRAINT, so they are dropped first and added again (NOT VALID + VALIDATE).
		for (auto &k : keys(from, "constraint")) {
			std::string type = sget(from.at(k), "type");
			if (type != "primary key" && type != "unique")
				continue;
			auto *t = get(to, k);
			std::string table = constraint_table(k);
			if ((t && canon(*t) == canon(from.at(k)) && !recreate.count(k)) || !table_in(to, table))
				continue;
			// only those on that key's columns (pluggedin, sweep 7: a one-statement down file
			// that dropped a unique constraint re-added 20 foreign keys on other columns, each
			// scanning its table); when a definition cannot be read, all of them, as before
			std::vector<std::string> kcols;
			const std::string kdef = sget(from.at(k), "definition");
			size_t open = kdef.find('('), close = open == std::string::npos ? open : kdef.find(')', open);
			if (close != std::string::npos)
				for (auto &c : split_list(kdef.substr(open + 1, close - open - 1)))
					kcols.push_back(c);
			std::sort(kcols.begin(), kcols.end());
			for (auto &fk : keys(from, "constraint")) {
				if (sget(from.at(fk), "type") != "foreign key" || !to.count(fk) ||
				    !mentions(sget(from.at(fk), "definition"), table))
					continue;
				std::string rt;
				std::vector<std::string> rcols;
				if (!kcols.empty() && fk_references(sget(from.at(fk), "definition"), rt, rcols)) {
					std::sort(rcols.begin(), rcols.end());
					if (rcols != kcols)
						continue;
				}
				recreate.insert(fk);
			}
		}
		for (auto &k : keys(from, "constraint")) {
			auto *t = get(to, k);
			std::string table = constraint_table(k);
			if (t && canon(*t) == canon(from.at(k)) && !recreate.count(k))
				continue;
			if (!table_in(to, table) && sget(from.at(k), "type") != "foreign key")
				continue;  // DROP TABLE takes it along (foreign keys go first: they may point at other dropped tables)
			if (sget(from.at(k), "type") == "trigger")
				continue;  // a constraint trigger: dropped with its trigger
			bool fk = sget(from.at(k), "type") == "foreign key";
			emit(fk ? P_DROP_FKS : P_DROP_CONSTRAINTS, "ALTER TABLE " + table + " DROP CONSTRAINT " + last_name(k), k);
		}
		// Add: primary keys, unique and exclusion first (foreign keys need them), then checks, then foreign keys.
		std::vector<std::string> order[3];
		for (auto &k : keys(to, "constraint")) {
			auto *f = get(from, k);
			if (f && canon(*f) == canon(to.at(k)) && !recreate.count(k))
				continue;
			std::string type = sget(to.at(k), "type");
			if (type == "trigger")
				continue;  // created by CREATE CONSTRAINT TRIGGER (the trigger's definition)
			order[type == "foreign key" ? 2 : type == "check" ? 1 : 0].push_back(k);
		}
		for (auto &list : order)
			for (auto &k : list)
				add_constraint(k);
	}

	void add_constraint(const std::string &k) {
		const JsonValue &c = to.at(k);
		std::string table = constraint_table(k), name = last_name(k), type = sget(c, "type"), def = sget(c, "definition");
		bool existing = existed(table);
		bool part = partitioned(to, table);
		std::string head = "ALTER TABLE " + table + " ADD CONSTRAINT " + name + " ";
		Phase ph = type != "foreign key" ? P_ADD_CONSTRAINTS : fks_after_indexes.count(k) ? P_TABLE_ATTRS : P_ADD_FKS;
		bool not_valid = def.size() >= 10 && def.compare(def.size() - 10, 10, " NOT VALID") == 0;
		if (!existing) {
			emit(ph, head + def, k);
			return;
		}
		// a foreign key referencing a partitioned table: PostgreSQL leaves the copies on its
		// partitions NOT VALID after VALIDATE, so it is added valid at once
		std::string ref_table;
		std::vector<std::string> ref_cols;
		bool refs_partitioned = type == "foreign key" && fk_references(def, ref_table, ref_cols) && partitioned(to, ref_table);
		if ((type == "check" || type == "foreign key") && !not_valid && !(part && type == "foreign key") && !refs_partitioned) {
			auto &a = emit(ph, head + def + " NOT VALID", k);
			a.comment = "added NOT VALID, then validated without blocking writes";
			auto &v = emit(ph, "ALTER TABLE " + table + " VALIDATE CONSTRAINT " + name, k);
			hazard(v, Hazard::Validation, "scans " + table + " (SHARE UPDATE EXCLUSIVE)");
			hazard(v, Hazard::FailsOnData, "fails if rows of " + table + " break " + def);
			return;
		}
		if ((type == "primary key" || type == "unique") && opts.concurrent_indexes && !part) {
			// the index first, concurrently; then the constraint takes it over
			auto it = implicit_to.find("index:" + split_qualified(table)[0] + "." + name);
			const JsonValue *idx = it == implicit_to.end() ? nullptr : &it->second;
			if (idx) {
				std::string idef = concurrently(sget(*idx, "definition"));
				if (!idef.empty()) {
					auto &i = emit(ph, idef, k);
					i.no_transaction = true;
					hazard(i, Hazard::IndexBuild, "builds index " + split_qualified(table)[0] + "." + name + " on " + table + " (concurrently)");
					if (type == "unique")
						hazard(i, Hazard::FailsOnData, "fails if " + table + " holds duplicates (an INVALID index is left: drop it)");
					std::string attrs;
					if (def.find("INITIALLY DEFERRED") != std::string::npos)
						attrs = " DEFERRABLE INITIALLY DEFERRED";
					else if (def.find("DEFERRABLE") != std::string::npos && def.find("NOT DEFERRABLE") == std::string::npos)
						attrs = " DEFERRABLE";
					auto &s = emit(ph, head + (type == "primary key" ? "PRIMARY KEY" : "UNIQUE") + " USING INDEX " + name + attrs, k);
					if (type == "primary key")
						hazard(s, Hazard::Validation, "scans " + table + " for NULLs if a column is not yet NOT NULL");
					return;
				}
			}
		}
		auto &s = emit(ph, head + def, k);
		if (type == "primary key" || type == "unique" || type == "exclusion") {
			hazard(s, Hazard::IndexBuild, "builds an index on " + table + " while holding its lock");
			hazard(s, Hazard::AccessExclusive, "lock: ACCESS EXCLUSIVE on " + table);
		}
	}

	static std::string concurrently(const std::string &def) {
		for (const char *p : {"CREATE INDEX ", "CREATE UNIQUE INDEX "}) {
			std::string pre = p;
			if (def.compare(0, pre.size(), pre) == 0)
				return pre + "CONCURRENTLY " + def.substr(pre.size());
		}
		return "";
	}

	void plan_indexes() {
		for (auto &k : keys(from, "index")) {
			auto *t = get(to, k);
			const JsonValue &f = from.at(k);
			std::string table = sget(f, "table");
			if (t && canon(*t) == canon(f) && !recreate.count(k))
				continue;
			if (!table_in(to, table) && !to.count("materialized_view:" + table))
				continue;  // goes with its table
			if (views_going.count(table))
				continue;  // goes with its materialized view
			bool conc = opts.concurrent_indexes && !partitioned(from, table);
			auto &s = emit(P_DROP_INDEXES, std::string("DROP INDEX ") + (conc ? "CONCURRENTLY " : "") + name_of(k), k);
			s.no_transaction = conc;
			if (!conc)
				hazard(s, Hazard::AccessExclusive, "lock: ACCESS EXCLUSIVE on " + table);
		}
		for (auto &k : keys(to, "index")) {
			auto *f = get(from, k);
			const JsonValue &t = to.at(k);
			std::string table = sget(t, "table");
			bool remade_mv = views_going.count(table) || (to.count("materialized_view:" + table) &&
			                                               !from.count("materialized_view:" + table));
			if (f && canon(*f) == canon(t) && !recreate.count(k) && !remade_mv)
				continue;
			std::string def = sget(t, "definition");
			bool part = partitioned(to, table);
			if (part) {
				size_t on = def.find(" ON ONLY ");
				if (on != std::string::npos)
					def.replace(on, 9, " ON ");  // ONLY would leave the partitions unindexed and the index invalid
			}
			bool existing = (existed(table) || (from.count("materialized_view:" + table) && !remade_mv));
			if (existing && opts.concurrent_indexes && !part) {
				std::string c = concurrently(def);
				if (!c.empty()) {
					auto &s = emit(P_INDEXES, c, k);
					s.no_transaction = true;
					hazard(s, Hazard::IndexBuild, "builds index " + name_of(k) + " on " + table + " (concurrently)");
					if (def.compare(0, 20, "CREATE UNIQUE INDEX ") == 0)
						hazard(s, Hazard::FailsOnData,
						       "fails if " + table + " holds duplicates (an INVALID index is left: drop it)");
					continue;
				}
			}
			auto &s = emit(P_INDEXES, def, k);
			if (existing) {
				hazard(s, Hazard::IndexBuild, "builds index " + name_of(k) + " on " + table + " (blocks writes meanwhile)");
				if (def.compare(0, 20, "CREATE UNIQUE INDEX ") == 0)
					hazard(s, Hazard::FailsOnData, "fails if " + table + " holds duplicates");
			}
		}
	}

	// -----------------------------------------------------------------------
	// Views, functions, triggers, policies

	std::string view_kind(const Snap &s, const std::string &q) const {
		return s.count("view:" + q) ? "view" : s.count("materialized_view:" + q) ? "materialized_view" : "";
	}

	// A view's "depends_on" (pg_depend, read with the snapshot), or null for a snapshot without it.
	static const JsonValue *depends_on(const JsonValue &view) {
		const JsonValue *d = view.find("depends_on");
		return d && d->kind == JsonValue::Kind::Array ? d : nullptr;
	}
	// Does the view read the table or view `q`? From pg_depend when the snapshot has it,
	// else from its definition's text.
	static bool reads(const JsonValue &view, const std::string &q) {
		if (const JsonValue *deps = depends_on(view)) {  // "s.t" (rows counted, whole rows) or "s.t.c"
			for (auto &d : deps->items)
				if (d.string == q || (d.string.compare(0, q.size() + 1, q + ".") == 0 &&
				                      d.string.find('(') == std::string::npos))
					return true;
			return false;
		}
		return mentions(sget(view, "definition"), q);
	}

	void plan_views() {
		// Which go: removed, changed, or reading a table whose column types change;
		// then (to a fixed point) every view reading one that goes.
		std::set<std::string> &going = views_going;  // qualified names
		auto all_from = keys(from, "view"), mv = keys(from, "materialized_view");
		all_from.insert(all_from.end(), mv.begin(), mv.end());
		for (auto &k : all_from) {
			std::string q = name_of(k);
			auto *t = get(to, k);
			std::string why;
			if (const JsonValue *deps = depends_on(from.at(k))) {  // pg_depend: exactly what it reads
				for (auto &d : deps->items)
					if (why.empty() && readded_columns.count(d.string))
						why = "created again below: it reads " + d.string + ", which is dropped and added again";
					else if (why.empty() && retyped_columns.count(d.string))
						why = "created again below: it reads " + d.string + ", whose type changes";
					else if (why.empty() && (functions_recreated.count(d.string) || going_functions.count(d.string)))
						why = "created again below: it calls " + d.string + ", which is dropped and created again";
			} else {  // a snapshot without pg_depend's answer: every view naming the table is taken to depend on it
				for (auto &rt : retyped_tables)
					if (why.empty() && mentions(sget(from.at(k), "definition"), rt))
						why = "created again below: it names " + rt + ", whose column types change (the snapshot has no "
						      "pg_depend for it: every view naming the table is taken to depend on it)";
			}
			if (!t || canon(*t) != canon(from.at(k)) || !why.empty()) {
				going.insert(q);
				if (t && canon(*t) == canon(from.at(k)))
					view_reason[q] = why;
			}
		}
		for (bool grew = true; grew;) {
			grew = false;
			for (auto &k : all_from) {
				std::string q = name_of(k);
				if (going.count(q))
					continue;
				for (auto &g : std::set<std::string>(going))
					if (reads(from.at(k), g)) {
						going.insert(q);
						if (to.count(k) && canon(to.at(k)) == canon(from.at(k)))
							view_reason[q] = "created again below: it reads " + g + ", which is dropped";
						grew = true;
						break;
					}
			}
		}
		// Drop the readers before what they read.
		auto deps_from = [&](const std::string &q, const Snap &s) {
			std::vector<std::string> out;
			const JsonValue &v = s.at(view_kind(s, q) + ":" + q);
			for (auto &k : s)
				if ((kind_of(k.first) == "view" || kind_of(k.first) == "materialized_view") && name_of(k.first) != q &&
				    reads(v, name_of(k.first)))
					out.push_back(name_of(k.first));
			return out;
		};
		std::vector<std::string> drop_order = topo(std::vector<std::string>(going.begin(), going.end()),
		                                           [&](const std::string &q) { return deps_from(q, from); });
		std::reverse(drop_order.begin(), drop_order.end());
		for (auto &q : drop_order) {
			std::string kind = view_kind(from, q);
			auto &s = emit(P_DROP_VIEWS, std::string(kind == "view" ? "DROP VIEW " : "DROP MATERIALIZED VIEW ") + q, kind + ":" + q);
			if (view_reason.count(q))
				s.comment = view_reason[q];
		}
		// Create: new, changed, or dropped for a dependency; what they read first.
		std::vector<std::string> make;
		auto all_to = keys(to, "view"), mvt = keys(to, "materialized_view");
		all_to.insert(all_to.end(), mvt.begin(), mvt.end());
		for (auto &k : all_to)
			if (!from.count(k) || going.count(name_of(k)))
				make.push_back(name_of(k));
		for (auto &q : topo(make, [&](const std::string &q) { return deps_from(q, to); })) {
			std::string kind = view_kind(to, q);
			const JsonValue &v = to.at(kind + ":" + q);
			std::string def = sget(v, "definition");
			while (!def.empty() && (def.back() == ';' || std::isspace(static_cast<unsigned char>(def.back()))))
				def.pop_back();
			auto options = strings(v, "options");
			std::string with = options.empty() ? "" : " WITH (" + join(options, ", ") + ")";
			auto &s = emit(P_VIEWS, std::string(kind == "view" ? "CREATE VIEW " : "CREATE MATERIALIZED VIEW ") + q + with + " AS\n" + def,
			               kind + ":" + q);
			if (kind == "materialized_view")
				hazard(s, Hazard::Validation, "runs the materialized view's query");
		}
	}

	// Orders `items` so that every item's dependencies among them come first.
	static std::vector<std::string> topo(const std::vector<std::string> &items,
	                                     const std::function<std::vector<std::string>(const std::string &)> &deps) {
		std::vector<std::string> out;
		std::set<std::string> in(items.begin(), items.end()), done, visiting;
		std::function<void(const std::string &)> visit = [&](const std::string &q) {
			if (done.count(q) || visiting.count(q))
				return;
			visiting.insert(q);
			for (auto &d : deps(q))
				if (in.count(d))
					visit(d);
			visiting.erase(q);
			done.insert(q);
			out.push_back(q);
		};
		for (auto &q : items)
			visit(q);
		return out;
	}

	static std::string header_line(const std::string &def) {
		// "CREATE OR REPLACE FUNCTION public.f(a integer)\n RETURNS integer\n ..." -> the first two lines
		size_t a = def.find('\n');
		size_t b = a == std::string::npos ? a : def.find('\n', a + 1);
		std::string head = def.substr(0, b);
		return head;
	}

	// The retyped table a SQL-standard body (BEGIN ATOMIC; PostgreSQL prints it parsed,
	// names qualified) reads, or "".
	std::string atomic_body_reads_retyped(const std::string &def) const {
		if (def.find("BEGIN ATOMIC") == std::string::npos)
			return "";
		for (auto &rt : retyped_tables)
			if (mentions(def, rt))
				return rt;
		return "";
	}

	// Why a function must go before an enum it uses is created again, or "": its
	// parameters or result name the enum (a SQL-standard body anywhere), and the old
	// type, renamed, could not be dropped under it.
	std::string uses_recreated_enum(const std::string &def) const {
		std::string where = def.find("BEGIN ATOMIC") == std::string::npos ? header_line(def) : def;
		for (auto &e : recreated_enums)
			if (mentions(where, e.first))
				return "it uses enum " + e.first + ", which is created again (the old type, renamed, is dropped at the end)";
		return "";
	}

	// An IMMUTABLE function whose body is replaced in place: what PostgreSQL stored
	// with the old body stays as it was. Indexes on it are rebuilt (their entries
	// would no longer match their lookups); stored generated values and rows a check
	// accepted are named as hazards on the statement.
	void stale_after_new_body(DiffStatement &s, const std::string &fn) {
		std::string bare = fn.substr(0, fn.find('('));
		new_bodies.insert(fn);  // its indexes: reindex_new_bodies(), once views_going is known
		for (auto &k : keys(to, "column"))
			if (from.count(k) && mentions(sget(to.at(k), "generated"), bare))
				hazard(s, Hazard::FailsOnData, "stored values of " + name_of(k) + " were computed by the old body: they change only when "
				                               "their rows are updated");
		for (auto &k : keys(to, "constraint"))
			if (from.count(k) && sget(to.at(k), "type") == "check" && mentions(sget(to.at(k), "definition"), bare))
				hazard(s, Hazard::FailsOnData, "rows already in " + constraint_table(k) + " are not checked again by " + last_name(k));
	}

	void reindex_new_bodies() {
		std::set<std::string> done;
		for (auto &fn : new_bodies) {
			std::string bare = fn.substr(0, fn.find('('));
			for (auto &k : keys(to, "index")) {
				const JsonValue &t = to.at(k);
				auto *f = get(from, k);
				std::string table = sget(t, "table");
				// an index the plan builds anyway (new, changed, made again) needs no rebuild
				if (!f || canon(*f) != canon(t) || recreate.count(k) || views_going.count(table) || !mentions(sget(t, "definition"), bare) ||
				    !done.insert(k).second)
					continue;
				// a partitioned index is rebuilt only outside a transaction (PostgreSQL 14+)
				bool part = partitioned(to, table);
				if (part && opts.one_transaction) {
					refuse(k, "index " + name_of(k) + " on partitioned table " + table + " computes " + fn +
					              ", whose body changes: it must be rebuilt, and PostgreSQL rebuilds a partitioned index only "
					              "outside a transaction, while a push is one transaction",
					       "Make this change with dbkit generate and dbkit migrate: the rebuild gets a migration of its own.");
					continue;
				}
				bool conc = opts.concurrent_indexes;
				auto &r = emit(P_INDEXES, std::string("REINDEX INDEX ") + (conc ? "CONCURRENTLY " : "") + name_of(k), k);
				r.comment = "it computes " + fn + ", whose body changes: its entries were computed by the old one";
				r.no_transaction = conc || part;
				hazard(r, Hazard::IndexBuild, "rebuilds index " + name_of(k) + " on " + table + (conc ? " (concurrently)" : " (blocks writes meanwhile)"));
			}
		}
	}

	// Does a function's signature (or SQL-standard body) name the row type of a table the
	// plan drops? DROP TABLE refuses under it: the function goes first.
	bool takes_dropped_row_type(const std::string &def) const {
		std::string head = def.find("BEGIN ATOMIC") != std::string::npos ? def : header_line(def);
		for (auto &tk : keys(from, "table"))
			if (!to.count(tk) && mentions(head, name_of(tk)))
				return true;
		return false;
	}

	// A function whose signature takes a view's row type, or whose SQL-standard body reads
	// the view, when the view is dropped (and maybe created again): PostgreSQL refuses
	// DROP VIEW under it. It goes first and comes back after the views, whatever
	// plan_functions had planned for it.
	void functions_over_going_views() {
		for (const char *kind : {"function", "procedure"})
			for (auto &k : keys(from, kind)) {
				std::string def = sget(from.at(k), "definition");
				std::string head = def.find("BEGIN ATOMIC") != std::string::npos ? def : header_line(def);
				std::string view;
				for (auto &q : views_going)
					if (view.empty() && mentions(head, q))
						view = q;
				if (view.empty())
					continue;
				for (auto &ph : phases)
					ph.erase(std::remove_if(ph.begin(), ph.end(), [&](const DiffStatement &st) { return st.object == k; }),
					         ph.end());
				std::string word = std::string(kind) == "function" ? "FUNCTION" : "PROCEDURE";
				emit(P_DROP_VIEW_USERS, "DROP " + word + " " + name_of(k), k).comment =
				    std::string(to.count(k) ? "created again below: " : "") + "it names view " + view +
				    ", which is dropped (PostgreSQL refuses that under it)";
				if (auto *t = get(to, k)) {
					std::string d = sget(*t, "definition");
					while (!d.empty() && std::isspace(static_cast<unsigned char>(d.back())))
						d.pop_back();
					emit(P_TABLE_ATTRS, d, k);
				}
			}
	}

	void plan_functions() {
		std::set<std::string> dropped;  // functions dropped and created again: their triggers too
		for (const char *kind : {"function", "procedure"}) {
			std::string word = std::string(kind) == "function" ? "FUNCTION" : "PROCEDURE";
			for (auto &k : keys(to, kind)) {
				auto *f = get(from, k);
				const JsonValue &t = to.at(k);
				std::string def = sget(t, "definition");
				std::string blocks = f ? atomic_body_reads_retyped(sget(*f, "definition")) : "";
				if (!blocks.empty())
					blocks = "its body (BEGIN ATOMIC) reads " + blocks + ", a column of which changes type, which PostgreSQL "
					         "refuses under it";
				else if (f)
					blocks = uses_recreated_enum(sget(*f, "definition"));
				auto calls_going = atomic_calls_going.find(k);
				if (blocks.empty() && calls_going != atomic_calls_going.end())
					blocks = "its body (BEGIN ATOMIC) calls " + calls_going->second + ", which is dropped";
				if (f && sget(*f, "definition") == def && blocks.empty())
					continue;
				bool late = def.find(" LANGUAGE sql") != std::string::npos;
				bool early_name = early_function_names.count(name_of(k).substr(0, name_of(k).find('('))) > 0;
				Phase ph = !late ? P_FUNCTIONS_EARLY : early_name ? P_FUNCTIONS_AFTER_TABLES : P_FUNCTIONS;
				if (!blocks.empty()) {
					// PostgreSQL records what a BEGIN ATOMIC body reads and refuses the type
					// change under it: dropped before, created after the column changes
					// before the functions it calls, when that is why
					auto &d = emit(calls_going != atomic_calls_going.end() ? P_DROP_INDEXES : P_DROP_FUNCTIONS_EARLY,
					               "DROP " + word + " " + name_of(k), k);
					d.comment = "created again below: " + blocks;
					dropped.insert(name_of(k));
					functions_recreated.insert(name_of(k));  // a SQL body comes back after the columns (late), others early
				} else if (f && header_line(sget(*f, "definition")) != header_line(def)) {
					auto &d = emit(early_name ? P_DROP_FUNCTIONS_EARLY : ph, "DROP " + word + " " + name_of(k), k);
					d.comment = "its parameters' names or its result change: CREATE OR REPLACE cannot do that";
					dropped.insert(name_of(k));
					functions_recreated.insert(name_of(k));
				}
				while (!def.empty() && std::isspace(static_cast<unsigned char>(def.back())))
					def.pop_back();
				auto &c = emit(ph, def, k);
				if (f && !dropped.count(name_of(k)) && def.find("\n IMMUTABLE") != std::string::npos)
					stale_after_new_body(c, name_of(k));
			}
			for (auto &k : keys(from, kind))
				if (!to.count(k)) {
					// one that would stand in the way of a column's type change or an enum's
					// rename goes before them, not with the other drops at the end
					std::string def = sget(from.at(k), "definition");
					bool early = !atomic_body_reads_retyped(def).empty() || !uses_recreated_enum(def).empty() ||
					             going_functions.count(name_of(k)) || takes_dropped_row_type(def);
					emit(atomic_calls_going.count(k) ? P_DROP_INDEXES : early ? P_DROP_FUNCTIONS_EARLY : P_DROP_FUNCTIONS,
					     "DROP " + word + " " + name_of(k), k);
				}
		}
		// triggers calling a function dropped and created again go and come back with it
		for (auto &k : keys(from, "trigger"))
			for (auto &fn : dropped) {
				std::string bare = fn.substr(0, fn.find('('));
				if (sget(from.at(k), "definition").find(bare + "(") != std::string::npos && to.count(k))
					recreate.insert(k);
			}
	}

	void plan_triggers() {
		// A trigger naming a column whose type changes (its WHEN condition, UPDATE OF)
		// blocks the change, as PostgreSQL says: "cannot alter type of a column used in
		// a trigger definition". It is dropped first and created again.
		for (auto &k : keys(from, "trigger")) {
			std::string table = constraint_table(k);
			if (!to.count(k) || !retyped_tables.count(table))
				continue;
			for (auto &rc : retyped_columns)
				if (rc.compare(0, table.size() + 1, table + ".") == 0 &&
				    names_ident(sget(from.at(k), "definition"), split_qualified(rc)[2]))
					recreate.insert(k);
		}
		for (auto &k : keys(from, "trigger")) {
			auto *t = get(to, k);
			std::string table = constraint_table(k);
			bool def_same = t && sget(*t, "definition") == sget(from.at(k), "definition");
			if (def_same && !recreate.count(k))
				continue;
			if (!table_in(to, table) && !view_kind(to, table).size())
				continue;
			if (views_going.count(table))
				continue;  // goes with its view
			emit(P_DROP_TRIGGERS, "DROP TRIGGER " + last_name(k) + " ON " + table, k);
		}
		for (auto &k : keys(to, "trigger")) {
			auto *f = get(from, k);
			const JsonValue &t = to.at(k);
			std::string table = constraint_table(k);
			bool remade = !f || sget(*f, "definition") != sget(t, "definition") || recreate.count(k) ||
			              views_going.count(table);
			if (remade)
				emit(P_TRIGGERS, sget(t, "definition"), k);
			std::string en = sget(t, "enabled"), fen = f && !remade ? sget(*f, "enabled") : "O";
			if (en != fen) {
				std::string clause = en == "D" ? "DISABLE TRIGGER " : en == "R" ? "ENABLE REPLICA TRIGGER "
				                                                   : en == "A" ? "ENABLE ALWAYS TRIGGER " : "ENABLE TRIGGER ";
				emit(P_TRIGGERS, "ALTER TABLE " + table + " " + clause + last_name(k), k);
			}
		}
	}

	// Why a policy that stays the same must go and come back, or "": a column of its
	// table, or of a table its expressions read (a subquery), changes type, which
	// PostgreSQL refuses under a policy ("cannot alter type of a column used in a
	// policy definition"). The other table is found in the expressions' text, where
	// PostgreSQL prints it qualified: any policy naming a retyped table is remade.
	std::string policy_blocks(const std::string &k, const JsonValue &p) const {
		std::string table = constraint_table(k);
		if (auto g = policy_calls_going.find(k); g != policy_calls_going.end())
			return "created again below: it calls " + g->second + ", which is dropped (policies block that)";
		// PostgreSQL blocks a type change only under a policy that reads that column (its
		// pg_depend rows name columns): the table's other policies stay (sweep 8)
		if (retyped_tables.count(table))
			for (auto &rc : retyped_columns) {
				auto parts = split_qualified(rc);
				if (parts.size() == 3 && qname_of(parts, 2) == table &&
				    (names_ident(sget(p, "using"), parts[2]) || names_ident(sget(p, "with_check"), parts[2])))
					return "created again below: it reads " + rc + ", which changes type (policies block that)";
			}
		for (auto &rt : retyped_tables)
			if (mentions(sget(p, "using"), rt) || mentions(sget(p, "with_check"), rt))
				return "created again below: it reads " + rt + ", a column of which changes type, which policies block";
		return "";
	}

	void plan_policies() {
		for (auto &k : keys(from, "policy")) {
			auto *t = get(to, k);
			std::string table = constraint_table(k);
			std::string blocks = policy_blocks(k, from.at(k));
			if (t && canon(*t) == canon(from.at(k)) && blocks.empty())
				continue;
			if (!table_in(to, table))
				continue;
			auto &s = emit(P_DROP_POLICIES, "DROP POLICY " + last_name(k) + " ON " + table, k);
			if (t && canon(*t) == canon(from.at(k)))
				s.comment = blocks;
		}
		for (auto &k : keys(to, "policy")) {
			auto *f = get(from, k);
			const JsonValue &t = to.at(k);
			std::string table = constraint_table(k);
			if (f && canon(*f) == canon(t) && policy_blocks(k, *f).empty())
				continue;
			std::string sql = "CREATE POLICY " + last_name(k) + " ON " + table + " AS " +
			                  (bget(t, "permissive") ? "PERMISSIVE" : "RESTRICTIVE") + " FOR " + sget(t, "command");
			std::vector<std::string> roles;
			for (auto &r : strings(t, "roles"))
				roles.push_back(r == "public" ? "PUBLIC" : catalog_ident(r));
			if (!roles.empty())
				sql += " TO " + join(roles, ", ");
			if (!sget(t, "using").empty())
				sql += " USING (" + sget(t, "using") + ")";
			if (!sget(t, "with_check").empty())
				sql += " WITH CHECK (" + sget(t, "with_check") + ")";
			emit(P_POLICIES, sql, k);
		}
	}

	// -----------------------------------------------------------------------
	// Comments

	// "COMMENT ON <what>" for an entry, or empty for kinds that carry no comment.
	std::string comment_target(const std::string &k) const {
		std::string kind = kind_of(k), q = name_of(k);
		if (kind == "schema") return "SCHEMA " + q;
		if (kind == "table") return (sget(to.at(k), "kind") == "foreign" ? "FOREIGN TABLE " : "TABLE ") + q;
		if (kind == "column") return "COLUMN " + q;
		if (kind == "constraint") return "CONSTRAINT " + last_name(k) + " ON " + constraint_table(k);
		if (kind == "index") return "INDEX " + q;
		if (kind == "sequence") return "SEQUENCE " + q;
		if (kind == "view") return "VIEW " + q;
		if (kind == "materialized_view") return "MATERIALIZED VIEW " + q;
		if (kind == "function") return "FUNCTION " + q;
		if (kind == "procedure") return "PROCEDURE " + q;
		if (kind == "trigger") return "TRIGGER " + last_name(k) + " ON " + constraint_table(k);
		if (kind == "enum" || kind == "type") return "TYPE " + q;
		if (kind == "domain") return "DOMAIN " + q;
		if (kind == "policy") return "POLICY " + last_name(k) + " ON " + constraint_table(k);
		return "";
	}

	// Did the plan create `k` (again)? Then its comment, if any, must be set again.
	bool created(const std::string &k, const std::set<std::string> &made) const {
		if (made.count(k))
			return true;
		std::string kind = kind_of(k);
		if (kind == "column" || kind == "constraint" || kind == "trigger" || kind == "policy")
			return new_tables.count(constraint_table(k)) > 0;  // in its CREATE TABLE
		return false;
	}

	void plan_comments() {
		std::set<std::string> made;  // keys a statement creates
		for (auto &p : phases)
			for (auto &s : p) {
				std::string kind = kind_of(s.object);
				// created, or dropped while it stays (created again: DROP FUNCTION + CREATE OR REPLACE)
				bool create = (s.sql.rfind("CREATE ", 0) == 0 && s.sql.rfind("CREATE OR REPLACE ", 0) != 0) ||
				              (s.sql.rfind("DROP ", 0) == 0 && to.count(s.object));
				if (create || (kind == "column" && s.sql.find(" ADD COLUMN ") != std::string::npos) ||
				    (kind == "constraint" && s.sql.find(" ADD CONSTRAINT ") != std::string::npos))
					made.insert(s.object);
			}
		// a constraint's index (left out of the plan, PostgreSQL makes it) is created with its constraint
		for (auto &[k, t] : implicit_to) {
			std::string c = "constraint:" + sget(t, "table") + "." + split_qualified(name_of(k)).back();
			if (made.count(c) || new_tables.count(sget(t, "table")))
				made.insert(k);
		}
		std::vector<std::tuple<std::string, const JsonValue *, const JsonValue *>> entries;  // key, from, to
		for (auto &[k, t] : to)
			entries.emplace_back(k, get(from, k), &t);
		for (auto &[k, t] : implicit_to) {
			auto it = implicit_from.find(k);
			entries.emplace_back(k, it == implicit_from.end() ? nullptr : &it->second, &t);
		}
		for (auto &[k, f, tp] : entries) {
			const JsonValue &t = *tp;
			std::string target = comment_target(k);
			if (target.empty())
				continue;
			std::string want = sget(t, "comment"), had = f ? sget(*f, "comment") : "";
			bool again = created(k, made);
			if (kind_of(k) == "view" || kind_of(k) == "materialized_view")
				plan_view_column_comments(k, f, t, again);
			if (want == had && !(again && !want.empty()))
				continue;
			if (want.empty() && (again || !f))
				continue;
			emit(P_COMMENTS, "COMMENT ON " + target + " IS " + (want.empty() ? "NULL" : literal(want)), k);
		}
	}

	// A view's columns have no entries of their own: their comments are the view's
	// "column_comments" ({column: comment}). A view created again has none left.
	void plan_view_column_comments(const std::string &k, const JsonValue *f, const JsonValue &t, bool again) {
		const JsonValue *want = t.find("column_comments");
		const JsonValue *had = f && !again ? f->find("column_comments") : nullptr;
		std::set<std::string> columns;
		for (const JsonValue *side : {want, had})
			if (side && side->kind == JsonValue::Kind::Object)
				for (auto &m : side->members)
					columns.insert(m.first);
		for (auto &c : columns) {
			std::string w = want ? sget(*want, c.c_str()) : "", h = had ? sget(*had, c.c_str()) : "";
			if (w != h)
				emit(P_COMMENTS, "COMMENT ON COLUMN " + name_of(k) + "." + c + " IS " + (w.empty() ? "NULL" : literal(w)), k);
		}
	}

	// A side that cannot declare comments (a drizzle snapshot's schema) keeps the
	// other side's: generate --from-snapshot never drops the comments a migration made.
	static void carry_comments(Snap &dst, const Snap &src) {
		for (auto &[k, v] : dst) {
			auto it = src.find(k);
			for (const char *key : {"comment", "column_comments"}) {
				const JsonValue *c = it == src.end() ? nullptr : it->second.find(key);
				if (!c || v.kind != JsonValue::Kind::Object || v.find(key))
					continue;
				v.members.emplace_back(key, *c);
			}
		}
	}
	static bool carries_comments(const JsonValue &snapshot) {
		const JsonValue *f = snapshot.find("dbkit:format");
		const JsonValue *c = f ? f->find("comments") : nullptr;
		return !(c && c->kind == JsonValue::Kind::Bool && !c->boolean);
	}

	// An entry the shadow built carries "reprinted": the members PostgreSQL stores
	// differently when dbkit writes back what it printed (`varchar_col IN ('a')` is
	// printed as `(ARRAY['a'::character varying])::text[]`, which parses into
	// per-element casts). Either spelling on one side against the other's is no
	// change: the members take `from`'s, so the plan neither rebuilds the object
	// forever nor misses a real change (which differs in both spellings).
	static JsonValue *member(JsonValue &v, const std::string &key) {
		for (auto it = v.members.rbegin(); it != v.members.rend(); ++it)
			if (it->first == key)
				return &it->second;
		return nullptr;
	}
	static JsonValue without_reprint(const JsonValue &v) {
		JsonValue out = v;
		out.members.clear();
		for (auto &m : v.members)
			if (m.first != "reprinted")
				out.members.push_back(m);
		return out;
	}
	static JsonValue reprinted(const JsonValue &v) {
		JsonValue out = without_reprint(v);
		if (const JsonValue *r = v.find("reprinted"); r && r->kind == JsonValue::Kind::Object)
			for (auto &m : r->members)
				if (JsonValue *slot = member(out, m.first))
					*slot = m.second;
		return out;
	}
	static void reconcile_reprints(Snap &from, Snap &to) {
		for (auto &[k, t] : to) {
			auto f = from.find(k);
			if (f == from.end())
				continue;
			JsonValue fs = without_reprint(f->second), ts = without_reprint(t);
			if (canon(fs) == canon(ts))
				continue;
			std::string f1 = canon(fs), t1 = canon(ts), f2 = canon(reprinted(f->second)), t2 = canon(reprinted(t));
			if (f1 != t2 && f2 != t1 && f2 != t2)
				continue;
			for (const JsonValue *side : {t.find("reprinted"), f->second.find("reprinted")})
				if (side && side->kind == JsonValue::Kind::Object)
					for (auto &m : side->members)
						if (JsonValue *slot = member(ts, m.first))
							if (const JsonValue *was = fs.find(m.first))
								*slot = *was;
			t = std::move(ts);
		}
		for (Snap *s : {&from, &to})
			for (auto &[k, v] : *s)
				if (v.find("reprinted"))
					v = without_reprint(v);
	}

	void refuse_unsupported() {
		static const std::set<std::string> handled = {"schema", "table", "column", "constraint", "index", "sequence",
		                                              "view", "materialized_view", "function", "procedure", "trigger",
		                                              "enum", "domain", "type", "extension", "policy"};
		std::set<std::string> all;
		for (auto &[k, v] : from)
			all.insert(k);
		for (auto &[k, v] : to)
			all.insert(k);
		for (auto &k : all) {
			if (handled.count(kind_of(k)))
				continue;
			auto *f = get(from, k), *t = get(to, k);
			if (f && t && canon(*f) == canon(*t))
				continue;
			refuse(k, kind_of(k) + " " + name_of(k) + (!f ? " is new" : !t ? " is gone" : " changes") +
			              ": dbkit's diff does not plan " + kind_of(k) + "s; write that part of the migration by hand",
			       "");
		}
	}

	void run(const JsonValue &from_v, const JsonValue &to_v) {
		auto load = [](const JsonValue &v, Snap &out) {
			for (auto &m : v.members)
				if (m.first != "dbkit:format" && kind_of(m.first) != "default_privileges")
					out[m.first] = m.second;
		};
		load(from_v, from);
		load(to_v, to);
		drop_implicit(from, &implicit_from);
		drop_implicit(to, &implicit_to);
		// after: a partition's copy of its parent's check is implicit on each side as printed there
		reconcile_reprints(from, to);
		refuse_unsupported();
		apply_renames();
		if (!carries_comments(to_v))
			carry_comments(to, from);
		else if (!carries_comments(from_v))
			carry_comments(from, to);
		check_ambiguous();
		rename_lookalikes();
		check_ambiguous_sequences();  // after rename_lookalikes: a counter a default names is renamed there
		if (!result.refusals.empty())
			return;
		detach_function_callers();
		plan_schemas_extensions();
		plan_enums();
		plan_sequences_domains_types();
		plan_tables();  // columns too; sets retyped_tables
		plan_functions();
		plan_views();  // needs retyped_tables
		functions_over_going_views();
		plan_constraints();
		plan_indexes();
		reindex_new_bodies();
		plan_triggers();
		plan_policies();
		plan_comments();
		if (!result.refusals.empty())
			return;
		for (auto &p : phases)
			for (auto &s : p) {
				if (s.no_transaction)
					hazard(s, Hazard::NoTransaction, "runs outside a transaction (a migration of its own)");
				result.statements.push_back(std::move(s));
			}
	}
};

}  // namespace

JsonValue with_undeclared(const JsonValue &from, const JsonValue &to) {
	// what a snapshot's entries cannot say about an object it declares
	static const char *const kUndeclared[] = {"owner", "acl", "comment", "column_comments", "replica_identity",
	                                          "force_row_security"};
	JsonValue out = to;
	std::map<std::string, size_t> at;
	std::set<std::string> owned;  // columns whose sequence the snapshot declares (serial: <table>_<column>_seq)
	for (size_t i = 0; i < out.members.size(); ++i) {
		at[out.members[i].first] = i;
		if (out.members[i].first.rfind("sequence:", 0) == 0)
			if (const JsonValue *o = out.members[i].second.find("owned_by"); o && o->kind == JsonValue::Kind::String)
				owned.insert(o->string);
		// a column the snapshot makes an identity has its own sequence: the serial's it had is
		// not carried (PlanB's professors.id, sweep 7: carried, the identity's took <name>_seq1
		// and the old one stayed)
		if (out.members[i].first.rfind("column:", 0) == 0 && !sget(out.members[i].second, "identity").empty())
			owned.insert(out.members[i].first.substr(7));
	}
	for (const auto &[key, f] : from.members) {
		auto it = at.find(key);
		if (it == at.end()) {  // not declared: kept as the migrations built it
			// ... unless it is the sequence of a column the snapshot gives a sequence of its own
			// name: a table renamed by hand keeps <old>_id_seq, which the snapshot calls
			// <new>_id_seq; carried, the plan made a second sequence starting at 1 and the next
			// insert collided (dennis-adrian/glitter-nextjs). Not carried, it is renamed.
			if (key.rfind("sequence:", 0) == 0)
				if (const JsonValue *o = f.find("owned_by");
				    o && o->kind == JsonValue::Kind::String && owned.count(o->string))
					continue;
			at[key] = out.members.size();
			out.members.emplace_back(key, f);
			continue;
		}
		JsonValue &t = out.members[it->second].second;
		if (f.kind != JsonValue::Kind::Object || t.kind != JsonValue::Kind::Object)
			continue;
		// An enum's labels in another order only: drizzle-kit before 0.2x appended every
		// ADD VALUE at the end while its snapshot kept the declared order
		// (dennis-adrian/glitter-nextjs). drizzle-kit never plans an order change; recreating
		// the type (and rewriting every table using it) for one is not the snapshot's to ask.
		if (key.rfind("enum:", 0) == 0)
			if (const JsonValue *fl = f.find("labels"); fl && fl->kind == JsonValue::Kind::Array)
				for (auto &m : t.members)
					if (m.first == "labels" && m.second.kind == JsonValue::Kind::Array &&
					    m.second.items.size() == fl->items.size()) {
						auto text = [](const JsonValue &a) {
							std::multiset<std::string> out;
							for (const JsonValue &x : a.items)
								out.insert(x.string);
							return out;
						};
						if (text(m.second) == text(*fl))
							m.second = *fl;
					}
		// a table's storage parameters (ALTER TABLE ... SET (fillfactor = 70), useautumn/autumn's
		// 0061): a drizzle snapshot has no field for them; a view's options it does declare
		std::vector<const char *> attrs(std::begin(kUndeclared), std::end(kUndeclared));
		if (key.rfind("table:", 0) == 0)
			attrs.push_back("options");
		for (const char *attr : attrs) {
			auto &m = t.members;
			m.erase(std::remove_if(m.begin(), m.end(), [&](const auto &kv) { return kv.first == attr; }), m.end());
			if (const JsonValue *v = f.find(attr))
				m.emplace_back(attr, *v);
		}
	}
	return out;
}

DiffResult diff_schemas(const JsonValue &from_all, const JsonValue &to_all, const DiffOptions &opts) {
	Planner p(opts);
	// what only the environment's schemas hold (Supabase's auth) is never the plan's to drop,
	// nor to create when a schema file declares the platform's schema itself
	const JsonValue to = without_copies(to_all, from_all);
	const bool environment = !environment_schemas(to).empty();
	JsonValue trimmed = environment ? without_environment(from_all, to) : JsonValue();
	const JsonValue &from = environment ? trimmed : from_all;
	if (opts.keep_undeclared)
		p.run(from, with_undeclared(from, to));
	else
		p.run(from, to);
	if (!p.result.refusals.empty())
		p.result.statements.clear();
	return p.result;
}

std::string data_loss_text(const DiffStatement &s) {
	std::string out;
	for (const auto &h : s.hazards)
		if (h.rfind("data loss: ", 0) == 0)
			out += (out.empty() ? "" : "; ") + h;
	return out.empty() ? s.object : out;
}

std::string render_plan(const DiffResult &r) {
	std::string out;
	for (auto &f : r.refusals)
		out += "-- refused: " + f.object + ": " + f.message + (f.hint.empty() ? "" : " (" + f.hint + ")") + "\n";
	for (auto &s : r.statements) {
		if (!s.comment.empty())
			out += "-- " + s.comment + "\n";
		for (auto &h : s.hazards)
			out += "-- hazard: " + h + "\n";
		if (s.no_transaction)
			out += "-- dbkit:no-transaction\n";
		out += s.sql + ";\n";
	}
	return out;
}

}  // namespace dbkit::core
