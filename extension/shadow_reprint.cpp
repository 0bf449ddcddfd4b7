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

namespace dbkit {
namespace {

// One printed expression worth asking about: the snapshot key, its member, the text
// printed now, the statements that make the object again from that text, and the
// query (with $1 the relation, $2 the quoted name) that prints it again.
struct Candidate {
	std::string key, member, printed;
	std::vector<std::string> redo;
	std::string reread, rel, name;
};

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
		if (kind == "constraint" && q.size() == 3 && member_text(v, "type") == "check") {
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
		} else if (kind == "column" && q.size() == 3) {
			std::string d = member_text(v, "default"), rel = q[0] + "." + q[1];
			if (cast(d) && d.find("ARRAY[") != std::string::npos)
				out.push_back({key, "default", d, {"ALTER TABLE " + rel + " ALTER COLUMN " + q[2] + " SET DEFAULT " + d},
				               "SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d "
				               "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
				               "WHERE d.adrelid = $1::pg_catalog.regclass AND pg_catalog.quote_ident(a.attname) = $2",
				               rel, q[2]});
		}
	}
	return out;
}

}  // namespace

std::string with_reprints(const std::string &snapshot) {
	core::JsonValue snap;
	core::JsonError err;
	if (!core::parse_json(snapshot, snap, err) || snap.kind != core::JsonValue::Kind::Object)
		return snapshot;
	std::map<std::string, std::string> patches;  // key -> {"member": "text", ...} members
	for (const Candidate &c : candidates(snap)) {
		std::optional<std::string> again;
		Subxact sx;  // rolled back whatever happens: the shadow stays as it was built
		try {
			for (const std::string &stmt : c.redo)
				spi::execute(stmt.c_str());
			spi::execute(c.reread.c_str(), {spi::text(c.rel), spi::text(c.name)});
			if (spi::rows() == 1)
				again = spi::get_text(0, 1);
		} catch (const PgError &e) {
			int code = e.edata()->sqlerrcode;
			sx.rollback();
			// a cancel, a timeout, a shutdown or no memory are not the object's: they stop the shadow
			if (ERRCODE_TO_CATEGORY(code) == ERRCODE_OPERATOR_INTERVENTION ||
			    ERRCODE_TO_CATEGORY(code) == ERRCODE_INSUFFICIENT_RESOURCES ||
			    ERRCODE_TO_CATEGORY(code) == ERRCODE_PROGRAM_LIMIT_EXCEEDED)
				throw;
			continue;  // PostgreSQL would not take its own text back here: nothing to say
		}
		sx.rollback();
		if (!again || *again == c.printed)
			continue;
		std::string &p = patches[c.key];
		p += (p.empty() ? "" : ", ") + core::json_quote(c.member) + ": " + core::json_quote(*again);
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
