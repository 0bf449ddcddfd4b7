// dbkit_drizzle_snapshot_from_sql(sql, options): what a schema file builds, as
// drizzle-kit's snapshot JSON (meta/NNNN_snapshot.json without id and prevId).
// The schema is built by PostgreSQL in the shadow (shadow.hpp) and read from its
// catalogs by dbkit._drizzle_snapshot (sql/dbkit--0.1.0--0.2.0.sql).
//
// drizzle-kit compares a few fields as text: a check's expression, an index's
// predicate, a view's query. schema.ts spells them its own way ("users"."age" > 0)
// and PostgreSQL prints them another (age > 0), so the reader takes the schema
// file's spelling (drizzle-kit export writes exactly schema.ts's) when PostgreSQL
// still prints the object as the statement that spelled it built it: after each
// statement the shadow runs, the spelled objects are located with PostgreSQL's
// parser and scanner, and their print at that moment is kept beside the text.
#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/json.hpp"
#include "errcodes.hpp"
#include "run_state.hpp"
#include "schema_engine.hpp"
#include "shadow.hpp"
#include "spi.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "parser/scanner.h"
#include "parser/gram.h"  // IDENT (after scanner.h, which it needs)
}

namespace dbkit {
namespace {

struct Tok {
	int type;
	int start;  // byte offset
};

// The statement's tokens, by PostgreSQL's scanner.
std::vector<Tok> tokens_of(const std::string &sql) {
	std::vector<Tok> toks;
	toks.reserve(sql.size() + 1);  // a token takes at least one byte: push_back below never allocates
	PgCall([&]() noexcept {
		core_yy_extra_type extra;
		core_yyscan_t scanner = scanner_init(sql.c_str(), &extra, &ScanKeywords, ScanKeywordTokens);
		core_YYSTYPE val;
		YYLTYPE loc;
		for (;;) {
			int tok = core_yylex(&val, &loc, scanner);
			if (tok == 0 || toks.size() == toks.capacity())
				break;
			toks.push_back({tok, loc});
		}
		scanner_finish(scanner);
	});
	return toks;
}

int keyword(const char *word) {
	int kw = ScanKeywordLookup(word, &ScanKeywords);
	return kw >= 0 ? ScanKeywordTokens[kw] : -1;
}

std::string trimmed(std::string_view s) {
	size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n;");
	return b == std::string_view::npos || e < b ? std::string() : std::string(s.substr(b, e - b + 1));
}

// The index of the token closing the parenthesis opened at `open`, or npos.
size_t closing(const std::vector<Tok> &t, size_t open) {
	int depth = 0;
	for (size_t i = open; i < t.size(); ++i) {
		if (t[i].type == '(')
			++depth;
		else if (t[i].type == ')' && --depth == 0)
			return i;
	}
	return std::string::npos;
}

// The first token of type `type` at parenthesis depth 0 from `from` on, or npos.
size_t top_level(const std::vector<Tok> &t, int type, size_t from = 0) {
	int depth = 0;
	for (size_t i = from; i < t.size(); ++i) {
		if (t[i].type == type && depth == 0)
			return i;
		if (t[i].type == '(')
			++depth;
		else if (t[i].type == ')')
			--depth;
	}
	return std::string::npos;
}

std::string between(const std::string &sql, const std::vector<Tok> &t, size_t open, size_t close) {
	size_t b = t[open].start + 1;
	return trimmed(std::string_view(sql).substr(b, t[close].start - b));
}

// CHECK ( <value> ) of the constraint written at byte `location`.
std::optional<std::string> check_value(const std::string &sql, const std::vector<Tok> &t, int location) {
	static const int check = keyword("check");
	for (size_t i = 0; i + 1 < t.size(); ++i)
		if (t[i].start >= location && t[i].type == check) {
			if (t[i + 1].type != '(')
				return std::nullopt;
			size_t c = closing(t, i + 1);
			if (c == std::string::npos)
				return std::nullopt;
			return between(sql, t, i + 1, c);
		}
	return std::nullopt;
}

// The expression after DEFAULT (the token at `location`) in a column definition: up
// to the comma or parenthesis that ends the column, or the next column constraint.
std::optional<std::string> default_value(const std::string &sql, const std::vector<Tok> &t, int location) {
	static const int k_default = keyword("default");
	static const std::set<int> stops = {keyword("not"),        keyword("null"),      keyword("constraint"),
	                                    keyword("primary"),    keyword("unique"),    keyword("check"),
	                                    keyword("references"), keyword("generated"), keyword("collate"),
	                                    keyword("default")};
	size_t i = 0;
	while (i < t.size() && (t[i].start != location || t[i].type != k_default))
		++i;
	if (i + 1 >= t.size())
		return std::nullopt;
	int depth = 0;
	size_t e = i + 1;
	for (; e < t.size(); ++e) {
		if (t[e].type == '(' || t[e].type == '[')
			++depth;
		else if (t[e].type == ')' || t[e].type == ']') {
			if (depth == 0)
				break;
			--depth;
		} else if (depth == 0 && (t[e].type == ',' || t[e].type == ';' || stops.count(t[e].type)))
			break;
	}
	if (e == i + 1)
		return std::nullopt;
	size_t b = t[i + 1].start, end = e < t.size() ? t[e].start : sql.size();
	std::string v = trimmed(std::string_view(sql).substr(b, end - b));
	return v.empty() ? std::nullopt : std::optional<std::string>(v);
}

// drizzle's name of the type written at `location` when it is `char` or `character`
// with no length ("char", "char[]" per dimension), else nullopt.
std::optional<std::string> char_without_length(const std::vector<Tok> &t, int location) {
	static const int k_char = keyword("char"), k_character = keyword("character"), k_varying = keyword("varying");
	for (size_t i = 0; i < t.size(); ++i) {
		if (t[i].start != location)
			continue;
		if ((t[i].type != k_char && t[i].type != k_character) ||
		    (i + 1 < t.size() && (t[i + 1].type == '(' || t[i + 1].type == k_varying)))
			return std::nullopt;
		std::string out = "char";
		for (size_t j = i + 1; j + 1 < t.size() && t[j].type == '[' && t[j + 1].type == ']'; j += 2)
			out += "[]";
		return out;
	}
	return std::nullopt;
}

// The relation as the statement that just ran resolved it (the session's
// search_path: dbkit's own queries run with pg_catalog's); 0 when absent.
// The identifier whose token starts at `at`, as PostgreSQL takes it before
// truncating: a quoted one unescaped, an unquoted one downcased.
std::string raw_ident(const std::string &sql, size_t at) {
	std::string out;
	if (sql[at] == '"') {
		for (size_t i = at + 1; i < sql.size(); ++i) {
			if (sql[i] == '"') {
				if (i + 1 < sql.size() && sql[i + 1] == '"') {
					out += '"';
					++i;
					continue;
				}
				break;
			}
			out += sql[i];
		}
		return out;
	}
	for (size_t i = at; i < sql.size(); ++i) {
		unsigned char c = static_cast<unsigned char>(sql[i]);
		if (!(std::isalnum(c) || c == '_' || c == '$' || c >= 0x80))
			break;
		out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	return out;
}

int64_t relation_oid(RangeVar *rv) {
	Oid oid = PgCall([&]() noexcept { return RangeVarGetRelid(rv, NoLock, true); });
	return static_cast<int64_t>(oid);
}

class DrizzleReader : public ShadowReader {
public:
	explicit DrizzleReader(std::string drizzle_schema) : drizzle_schema_(std::move(drizzle_schema)) {}

	void after_statement(Node *tree, std::string_view text) override {
		if (!tree)
			return;
		std::string sql(text);
		note_long_names(sql);
		switch (nodeTag(tree)) {
		case T_CreateStmt: {
			auto *c = castNode(CreateStmt, tree);
			std::vector<Tok> t;
			ListCell *lc;
			auto one = [&](Constraint *k) {
				if (k->contype != CONSTR_CHECK || !k->conname)
					return;
				if (t.empty())
					t = tokens_of(sql);
				if (auto v = check_value(sql, t, k->location))
					spell_check(relation_oid(c->relation), k->conname, *v);
			};
			foreach (lc, c->tableElts) {
				Node *e = static_cast<Node *>(lfirst(lc));
				if (IsA(e, Constraint))
					one(castNode(Constraint, e));
				else if (IsA(e, ColumnDef)) {
					auto *cd = castNode(ColumnDef, e);
					ListCell *lc2;
					foreach (lc2, cd->constraints) {
						auto *k = castNode(Constraint, lfirst(lc2));
						one(k);
						if (k->contype == CONSTR_DEFAULT && cd->colname) {
							if (t.empty())
								t = tokens_of(sql);
							if (auto v = default_value(sql, t, k->location))
								spell("SELECT 'd:' || a.attrelid || ':' || a.attnum FROM pg_catalog.pg_attribute a "
								      "WHERE a.attrelid = $1::pg_catalog.oid AND a.attname = $2 AND NOT a.attisdropped",
								      relation_oid(c->relation), cd->colname, *v);
						}
					}
					if (cd->colname && cd->typeName && cd->typeName->location >= 0) {
						if (t.empty())
							t = tokens_of(sql);
						if (auto ty = char_without_length(t, cd->typeName->location))
							spell("SELECT 't:' || a.attrelid || ':' || a.attnum FROM pg_catalog.pg_attribute a "
							      "JOIN pg_catalog.pg_type y ON y.oid = a.atttypid "
							      "WHERE a.attrelid = $1::pg_catalog.oid AND a.attname = $2 AND NOT a.attisdropped "
							      "AND 'pg_catalog.bpchar'::pg_catalog.regtype IN (y.oid, y.typelem)",
							      relation_oid(c->relation), cd->colname, *ty);
					}
				}
			}
			foreach (lc, c->constraints)
				one(castNode(Constraint, lfirst(lc)));
			break;
		}
		case T_AlterTableStmt: {
			auto *a = castNode(AlterTableStmt, tree);
			std::vector<Tok> t;
			ListCell *lc;
			foreach (lc, a->cmds) {
				auto *cmd = castNode(AlterTableCmd, lfirst(lc));
				if (cmd->subtype != AT_AddConstraint || !cmd->def || !IsA(cmd->def, Constraint))
					continue;
				auto *k = castNode(Constraint, cmd->def);
				if (k->contype != CONSTR_CHECK || !k->conname)
					continue;
				if (t.empty())
					t = tokens_of(sql);
				if (auto v = check_value(sql, t, k->location))
					spell_check(relation_oid(a->relation), k->conname, *v);
			}
			break;
		}
		case T_IndexStmt: {
			auto *ix = castNode(IndexStmt, tree);
			if (!ix->whereClause || !ix->idxname)
				break;
			std::vector<Tok> t = tokens_of(sql);
			size_t w = top_level(t, keyword("where"));
			if (w == std::string::npos)
				break;
			std::string v = trimmed(std::string_view(sql).substr(t[w].start + 5));
			spell("SELECT 'w:' || i.indexrelid FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c "
			      "ON c.oid = i.indexrelid WHERE i.indrelid = $1::pg_catalog.oid AND c.relname = $2",
			      relation_oid(ix->relation), ix->idxname, v);
			break;
		}
		case T_ViewStmt:
		case T_CreateTableAsStmt: {  // a view, or a materialized one (CREATE TABLE AS is not a view)
			RangeVar *rel = nullptr;
			if (IsA(tree, ViewStmt))
				rel = castNode(ViewStmt, tree)->view;
			else if (auto *ct = castNode(CreateTableAsStmt, tree); compat::create_table_as_objtype(ct) == OBJECT_MATVIEW && ct->into)
				rel = ct->into->rel;
			if (!rel)
				break;
			std::vector<Tok> t = tokens_of(sql);
			size_t as = top_level(t, keyword("as"));
			if (as == std::string::npos || as + 1 >= t.size())
				break;
			std::string v;
			size_t c = t[as + 1].type == '(' ? closing(t, as + 1) : std::string::npos;
			static const int with = keyword("with");
			if (c != std::string::npos && (c + 1 == t.size() || t[c + 1].type == with))
				v = between(sql, t, as + 1, c);  // drizzle-kit writes AS (<definition>) [WITH NO DATA]
			else
				v = trimmed(std::string_view(sql).substr(t[as].start + 2));
			spell("SELECT 'v:' || c.oid FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid "
			      "AND c.relkind IN ('v', 'm') AND $2 IS NOT NULL",
			      relation_oid(rel), "-", v);
			break;
		}
		default:
			break;
		}
	}

	std::string read() override {
		spi::execute("SELECT dbkit._drizzle_snapshot($1, $2::pg_catalog.jsonb)::pg_catalog.text",
		             {spi::text(drizzle_schema_), spi::text(spellings_json())});
		std::string json = spi::get_text(0, 1).value_or("{}");
		// other long names (tables, columns, ...) wherever they appear, unless the same
		// cut name is also a constraint's or an index's (those were put back above)
		for (const auto &[cut, full] : long_names_['o']) {
			if (long_names_['c'].count(cut) || long_names_['i'].count(cut))
				continue;
			std::string from = core::json_quote(cut), to = core::json_quote(full);
			for (size_t at = json.find(from); at != std::string::npos; at = json.find(from, at + to.size()))
				json.replace(at, from.size(), to);
		}
		return json;
	}

private:
	// Names over 63 bytes: PostgreSQL keeps the first 63 (a NOTICE says so), while
	// drizzle-kit's snapshot holds the name schema.ts declares (its foreign keys are
	// table_column_othertable_othercolumn_fk, often longer): every identifier PostgreSQL's
	// scanner cuts maps the stored name back to the whole one, by what it names (after
	// CONSTRAINT, after INDEX, or anything else: an index and a foreign key may be cut
	// to the same 63 bytes), so a later drizzle-kit generate finds the same constraint.
	void note_long_names(const std::string &sql) {
		static const int k_constraint = keyword("constraint"), k_index = keyword("index"),
		                 k_concurrently = keyword("concurrently"), k_if = keyword("if"), k_not = keyword("not"),
		                 k_exists = keyword("exists");
		size_t run = 0, longest = 0;  // no run of name bytes as long as a cut name: nothing to scan
		for (char ch : sql) {
			unsigned char c = static_cast<unsigned char>(ch);
			run = std::isalnum(c) || c == '_' || c == '$' || c == '"' || c >= 0x80 ? run + 1 : 0;
			longest = std::max(longest, run);
		}
		if (longest < NAMEDATALEN)
			return;
		// the scanner says NOTICE for each name it cuts: the statement already did
		spi::execute("SELECT pg_catalog.current_setting('client_min_messages'), "
		             "pg_catalog.set_config('client_min_messages', 'warning', true)");
		std::string level = spi::get_text(0, 1).value_or("notice");
		std::vector<Tok> t = tokens_of(sql);
		spi::execute("SELECT pg_catalog.set_config('client_min_messages', $1, true)", {spi::text(level)});
		for (size_t k = 0; k < t.size(); ++k) {
			if (t[k].type != IDENT)
				continue;
			std::string full = raw_ident(sql, static_cast<size_t>(t[k].start));
			if (full.size() < NAMEDATALEN)
				continue;
			int keep = PgCall([&]() noexcept {
				return pg_mbcliplen(full.c_str(), static_cast<int>(full.size()), NAMEDATALEN - 1);
			});
			size_t b = k;
			while (b > 0 && (t[b - 1].type == k_concurrently || t[b - 1].type == k_if || t[b - 1].type == k_not ||
			                 t[b - 1].type == k_exists))
				--b;
			char role = k > 0 && t[k - 1].type == k_constraint ? 'c' : b > 0 && t[b - 1].type == k_index ? 'i' : 'o';
			long_names_[role].emplace(full.substr(0, static_cast<size_t>(keep)), full);
		}
	}
	std::map<char, std::map<std::string, std::string>> long_names_;  // role -> cut name -> whole name

	void spell_check(int64_t relation, const std::string &name, const std::string &value) {
		spell("SELECT 'c:' || c.oid FROM pg_catalog.pg_constraint c WHERE c.conrelid = $1::pg_catalog.oid "
		      "AND c.conname = $2 AND c.contype = 'c'",
		      relation, name, value);
	}
	// `locate` (parameters: the relation's oid, a name) finds the object's key.
	void spell(const char *locate, int64_t relation, const std::string &name, const std::string &value) {
		if (relation == 0)
			return;
		std::string q = fmt::format("SELECT s.k, dbkit._drizzle_deparse(s.k) FROM ({}) s(k)", locate);
		spi::execute(q.c_str(), {spi::int8(relation), spi::text(name)});
		if (spi::rows() != 1)
			return;
		std::optional<std::string> key = spi::get_text(0, 1), deparsed = spi::get_text(0, 2);
		if (!key || !deparsed)
			return;
		spellings_[*key] = {value, *deparsed};
	}
	// {"<key>": {"text": ..., "deparsed": ...}, ...}
	std::string spellings_json() {
		std::string out = "{";
		for (const auto &[key, v] : spellings_) {
			if (out.size() > 1)
				out += ", ";
			out += core::json_quote(key) + ": {\"text\": " + core::json_quote(v.first) +
			       ", \"deparsed\": " + core::json_quote(v.second) + "}";
		}
		for (char role : {'c', 'i'})  // "n:c:<cut>": "<whole>", read by dbkit._drizzle_snapshot
			for (const auto &[cut, full] : long_names_[role])
				out += (out.size() > 1 ? ", " : "") + core::json_quote(std::string("n:") + role + ":" + cut) + ": " +
				       core::json_quote(full);
		out += std::string(out.size() > 1 ? ", " : "") + "\"environment\": " + environment;  // the stand-ins' schemas
		return out + "}";
	}

	std::string drizzle_schema_;
	std::map<std::string, std::pair<std::string, std::string>> spellings_;  // key -> (text, print)

public:
	void restart() override {
		long_names_.clear();
		spellings_.clear();
	}
};

std::string shadow_drizzle_snapshot(const std::vector<const core::Migration *> &sources, const ShadowOptions &opts) {
	spi::execute("SELECT coalesce(dbkit._reference_format() ->> 'drizzle_schema', 'drizzle')");
	DrizzleReader reader(spi::get_text(0, 1).value_or("drizzle"));
	return shadow_read(sources, opts, reader);
}

}  // namespace
}  // namespace dbkit

using namespace dbkit;

DBKIT_FUNCTION(dbkit_drizzle_snapshot_from_sql) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the schema SQL is null");
	std::string sql = text_arg(fcinfo, 0);
	EngineOptions o = read_engine_options(jsonb_arg(fcinfo, 1));
	core::Migration m = schema_file(sql, o.name);
	RunScope run;  // the shadow's DDL is dbkit's own: never audited
	spi::connect();
	std::string snap = shadow_drizzle_snapshot({&m}, o.shadow);
	spi::finish();
	const char *p = snap.c_str();
	return PgCall([&]() noexcept { return DirectFunctionCall1(json_in, CStringGetDatum(p)); });  // json: key order kept
}
