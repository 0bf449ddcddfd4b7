// What PostgreSQL stores when dbkit writes back what it printed. Checks, index
// definitions, views, policies and array defaults are printed with their casts
// (pg_get_constraintdef, ...), and that text does not always parse back into the
// same expression: `country IN ('US', 'CA')` on a varchar column is stored as one
// cast of an array, `(ARRAY['US'::character varying, ...])::text[]`, which parses
// back into a cast per element. A plan that writes the printed text would then
// never match the schema file (push rebuilding the constraint at every run). So
// the shadow asks PostgreSQL: each such object is made again from its printed
// text in a subtransaction that is rolled back, and where the new print differs
// the entry carries it as "reprinted" (core/schema_diff.cpp compares with either).
#include "shadow_reprint.hpp"

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/code_drift.hpp"
#include "core/json.hpp"
#include "spi.hpp"
#include "subxact.hpp"

extern "C" {
#include "utils/builtins.h"  // quote_identifier
}

namespace dbkit {
namespace {

// One printed expression worth asking about: the snapshot key, its member, the text
// printed now, the statements that make the object again from that text, and the
// query (with $1 the relation, $2 the quoted name) that prints it again.
struct Candidate {
	std::string key, member, printed;
	std::vector<std::string> redo;
	std::string reread, rel, name;
	std::string inner;  // a domain's constraint: its name under the member "constraints"
};

// A column's default or generation expression as printed ($1 its table, $2 its quoted name).
constexpr const char *kColumnExpr =
    "SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
    "WHERE d.adrelid = $1::pg_catalog.regclass AND pg_catalog.quote_ident(a.attname) = $2";

std::string member_text(const core::JsonValue &v, const char *k) {
	const core::JsonValue *m = v.find(k);
	return m && m->kind == core::JsonValue::Kind::String ? m->string : std::string();
}

// From the snapshot just read (its entries are PostgreSQL's prints already): only
// texts with a cast can change (the casts are what the parser folds differently);
// defaults only with an array (a scalar default's cast is kept as written). Names
// come from the keys, quoted as the catalog reader quoted them.
std::vector<Candidate> candidates(const core::JsonValue &snap) {
	std::vector<Candidate> out;
	auto cast = [](const std::string &t) { return t.find("::") != std::string::npos; };
	for (const auto &[key, v] : snap.members) {
		size_t colon = key.find(':');
		if (colon == std::string::npos || v.kind != core::JsonValue::Kind::Object)
			continue;
		std::string kind = key.substr(0, colon);
		std::vector<std::string> q = core::split_qualified(key.substr(colon + 1));
		if (kind == "constraint" && q.size() == 3 &&
		    (member_text(v, "type") == "check" || member_text(v, "type") == "exclusion")) {
			std::string def = member_text(v, "definition"), rel = q[0] + "." + q[1];
			if (cast(def))
				out.push_back({key, "definition", def,
				               {"ALTER TABLE " + rel + " DROP CONSTRAINT " + q[2] + ", ADD CONSTRAINT " + q[2] + " " + def},
				               "SELECT pg_catalog.pg_get_constraintdef(oid, true) FROM pg_catalog.pg_constraint "
				               "WHERE conrelid = $1::pg_catalog.regclass AND pg_catalog.quote_ident(conname) = $2",
				               rel, q[2]});
		} else if (kind == "index" && q.size() == 2) {
			std::string def = member_text(v, "definition"), rel = q[0] + "." + q[1];
			if (cast(def))
				out.push_back({key, "definition", def, {"DROP INDEX " + rel, def},
				               "SELECT pg_catalog.pg_get_indexdef($1::pg_catalog.regclass) WHERE $2 IS NOT NULL", rel, "-"});
		} else if (kind == "view" && q.size() == 2) {
			std::string def = member_text(v, "definition"), rel = q[0] + "." + q[1];
			if (cast(def))
				out.push_back({key, "definition", def, {"CREATE OR REPLACE VIEW " + rel + " AS " + def},
				               "SELECT pg_catalog.pg_get_viewdef($1::pg_catalog.regclass, true) WHERE $2 IS NOT NULL", rel,
				               "-"});
		} else if (kind == "policy" && q.size() == 3) {
			std::string rel = q[0] + "." + q[1];
			for (auto [member, clause, col] : {std::tuple<const char *, const char *, const char *>{"using", "USING", "polqual"},
			                                   {"with_check", "WITH CHECK", "polwithcheck"}}) {
				std::string e = member_text(v, member);
				if (cast(e))
					out.push_back({key, member, e, {"ALTER POLICY " + q[2] + " ON " + rel + " " + clause + " (" + e + ")"},
					               std::string("SELECT pg_catalog.pg_get_expr(") + col + ", polrelid) FROM pg_catalog.pg_policy "
					               "WHERE polrelid = $1::pg_catalog.regclass AND pg_catalog.quote_ident(polname) = $2",
					               rel, q[2]});
			}
		} else if (kind == "trigger" && q.size() == 3) {
			std::string def = member_text(v, "definition"), rel = q[0] + "." + q[1];
			if (cast(def))
				out.push_back({key, "definition", def, {"DROP TRIGGER " + q[2] + " ON " + rel, def},
				               "SELECT pg_catalog.pg_get_triggerdef(oid, true) FROM pg_catalog.pg_trigger "
				               "WHERE tgrelid = $1::pg_catalog.regclass AND pg_catalog.quote_ident(tgname) = $2",
				               rel, q[2]});
		} else if (kind == "domain" && q.size() == 2) {
			const core::JsonValue *cons = v.find("constraints");
			if (cons && cons->kind == core::JsonValue::Kind::Object)
				for (const auto &[con, def] : cons->members)
					if (def.kind == core::JsonValue::Kind::String && cast(def.string)) {
						out.push_back({key, "constraints", def.string,
						               {"ALTER DOMAIN " + q[0] + "." + q[1] + " DROP CONSTRAINT %CON%",
						                "ALTER DOMAIN " + q[0] + "." + q[1] + " ADD CONSTRAINT %CON% " + def.string},
						               "SELECT pg_catalog.pg_get_constraintdef(oid, true) FROM pg_catalog.pg_constraint "
						               "WHERE contypid = $1::pg_catalog.regtype AND conname = $2",
						               q[0] + "." + q[1], con, con});
					}
		} else if (kind == "materialized_view" && q.size() == 2) {
			std::string def = member_text(v, "definition"), rel = q[0] + "." + q[1];
			size_t end = def.find_last_not_of(" \n\t;");
			if (cast(def) && end != std::string::npos)
				out.push_back({key, "definition", def,
				               {"DROP MATERIALIZED VIEW " + rel,
				                "CREATE MATERIALIZED VIEW " + rel + " AS " + def.substr(0, end + 1) + " WITH NO DATA"},
				               "SELECT pg_catalog.pg_get_viewdef($1::pg_catalog.regclass, true) WHERE $2 IS NOT NULL", rel,
				               "-"});
		} else if (kind == "column" && q.size() == 3 && cast(member_text(v, "generated")) &&
		           !member_text(v, "type").empty()) {
			std::string g = member_text(v, "generated"), rel = q[0] + "." + q[1];
			out.push_back({key, "generated", g,
			               {"ALTER TABLE " + rel + " DROP COLUMN " + q[2] + ", ADD COLUMN " + q[2] + " " +
			                member_text(v, "type") + " GENERATED ALWAYS AS (" + g + ") STORED"},
			               kColumnExpr,
			               rel, q[2]});
		} else if (kind == "column" && q.size() == 3) {
			std::string d = member_text(v, "default"), rel = q[0] + "." + q[1];
			if (cast(d) && d.find("ARRAY[") != std::string::npos)
				out.push_back({key, "default", d, {"ALTER TABLE " + rel + " ALTER COLUMN " + q[2] + " SET DEFAULT " + d},
				               kColumnExpr,
				               rel, q[2]});
		}
	}
	return out;
}

// The object of `c` made again from `text` (its print, or another side's) in a
// subtransaction that is always rolled back, and printed again; `ok` false when
// PostgreSQL refuses it. A cancel, a timeout, a shutdown or no memory are not the
// object's: they stop the shadow.
std::optional<std::string> written_back(const Candidate &c, const std::string &text, bool &ok) {
	std::optional<std::string> again;
	Subxact sx;
	try {
		std::string quoted;
		if (!c.inner.empty())
			quoted = PgCall([&]() noexcept { return quote_identifier(c.inner.c_str()); });
		for (std::string stmt : c.redo) {
			if (size_t at = stmt.find("%CON%"); at != std::string::npos)
				stmt.replace(at, 5, quoted);
			if (text != c.printed)
				for (size_t at = stmt.find(c.printed); at != std::string::npos; at = stmt.find(c.printed, at + text.size()))
					stmt.replace(at, c.printed.size(), text);
			spi::execute(stmt.c_str());
		}
		spi::execute(c.reread.c_str(), {spi::text(c.rel), spi::text(c.name)});
		if (spi::rows() == 1)
			again = spi::get_text(0, 1);
	} catch (const PgError &e) {
		int code = e.edata()->sqlerrcode;
		sx.rollback();
		if (ERRCODE_TO_CATEGORY(code) == ERRCODE_OPERATOR_INTERVENTION ||
		    ERRCODE_TO_CATEGORY(code) == ERRCODE_INSUFFICIENT_RESOURCES ||
		    ERRCODE_TO_CATEGORY(code) == ERRCODE_PROGRAM_LIMIT_EXCEEDED)
			throw;
		ok = false;
		return std::nullopt;
	}
	sx.rollback();
	return again;
}

}  // namespace

std::string with_reprints(const std::string &snapshot, const std::string &other) {
	core::JsonValue snap;
	core::JsonError err;
	if (!core::parse_json(snapshot, snap, err) || snap.kind != core::JsonValue::Kind::Object)
		return snapshot;
	core::JsonValue live;
	if (!other.empty() && (!core::parse_json(other, live, err) || live.kind != core::JsonValue::Kind::Object))
		live = core::JsonValue();
	std::map<std::string, std::map<std::string, std::string>> found;  // key -> member (or domain constraint) -> print
	std::map<std::string, std::string> by_text;  // member + print -> new print: a child's copy of its parent's check
	std::vector<const Candidate *> refused;
	std::vector<Candidate> all = candidates(snap);
	for (const Candidate &c : all) {
		bool ok = true;
		std::optional<std::string> again = written_back(c, c.printed, ok);
		if (!ok) {
			refused.push_back(&c);  // an inherited copy cannot be dropped alone: its parent's answer below
			continue;
		}
		if (!again)
			continue;
		by_text[c.member + "\n" + c.printed] = *again;
		if (*again != c.printed) {
			found[c.key][c.inner.empty() ? c.member : c.inner] = *again;
			continue;
		}
		// the other side's print of it, written back here: the same object when PostgreSQL
		// stores what this one holds
		const core::JsonValue *o = c.inner.empty() && live.kind == core::JsonValue::Kind::Object ? live.find(c.key) : nullptr;
		std::string theirs = o ? member_text(*o, c.member.c_str()) : std::string();
		if (theirs.empty() || theirs == c.printed || theirs.find("::") == std::string::npos)
			continue;
		bool applies = true;
		std::optional<std::string> written = written_back(c, theirs, applies);  // refused: a real difference
		if (applies && written && *written == c.printed)
			found[c.key][c.member] = theirs;
	}
	for (const Candidate *c : refused)
		if (auto it = by_text.find(c->member + "\n" + c->printed); it != by_text.end() && it->second != c->printed)
			found[c->key][c->inner.empty() ? c->member : c->inner] = it->second;
	std::map<std::string, std::string> patches;  // key -> {"member": value, ...} members
	for (const auto &[key, prints] : found) {
		std::string &p = patches[key];
		if (key.rfind("domain:", 0) == 0) {  // the whole "constraints" object, with the new prints
			const core::JsonValue *entry = snap.find(key), *cons = entry ? entry->find("constraints") : nullptr;
			if (!cons) {  // cannot be: the candidate came from it
				patches.erase(key);
				continue;
			}
			std::string obj;
			for (const auto &[con, def] : cons->members) {
				auto n = prints.find(con);
				obj += (obj.empty() ? "" : ", ") + core::json_quote(con) + ": " +
				       core::json_quote(n != prints.end() ? n->second : def.string);
			}
			p = core::json_quote("constraints") + ": {" + obj + "}";
			continue;
		}
		for (const auto &[member, print] : prints)
			p += (p.empty() ? "" : ", ") + core::json_quote(member) + ": " + core::json_quote(print);
	}
	if (patches.empty())
		return snapshot;
	std::string json;
	for (const auto &[key, members] : patches)
		json += (json.empty() ? "{" : ", ") + core::json_quote(key) + ": {\"reprinted\": {" + members + "}}";
	json += "}";
	spi::execute(
	    "SELECT coalesce(pg_catalog.jsonb_object_agg(s.key, CASE WHEN p.value IS NULL THEN s.value "
	    "  ELSE s.value OPERATOR(pg_catalog.||) p.value END), '{}')::text "
	    "FROM pg_catalog.jsonb_each($1::pg_catalog.jsonb) s "
	    "LEFT JOIN pg_catalog.jsonb_each($2::pg_catalog.jsonb) p ON p.key = s.key",
	    {spi::text(snapshot), spi::text(json)});
	return *spi::get_text(0, 1);
}

}  // namespace dbkit
