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
#include <vector>

#include "core/json.hpp"
#include "spi.hpp"
#include "subxact.hpp"

namespace dbkit {
namespace {

// One row per printed expression worth asking about: the snapshot key, its member,
// the text printed now, the statements that make the object again from that text,
// and the query that prints it again. Only texts with a cast can change (the casts
// are what the parser folds differently); array defaults only (a scalar default's
// cast is kept as written). Identifiers are quoted by format('%I'); the rest is
// PostgreSQL's own printed SQL.
constexpr const char *kCandidates = R"SQL(
WITH ns AS (
    SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit') AND n.nspname !~ '^pg_'
       AND n.nspname NOT LIKE 'dbkit\_shadow\_%'
), rel AS (
    SELECT c.oid, c.relname, c.relkind, ns.nspname, pg_catalog.format('%I.%I', ns.nspname, c.relname) AS q
      FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace
), x AS (
    SELECT 'constraint:' || r.q || '.' || pg_catalog.quote_ident(co.conname) AS key, 'definition' AS member,
           pg_catalog.pg_get_constraintdef(co.oid, true) AS printed,
           pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I, ADD CONSTRAINT %I ', r.q, co.conname, co.conname) AS pre,
           NULL::text AS redo2,
           pg_catalog.format('SELECT pg_catalog.pg_get_constraintdef(oid, true) FROM pg_catalog.pg_constraint '
                             'WHERE conrelid = %L::pg_catalog.regclass AND conname = %L', r.q, co.conname) AS reread
      FROM pg_catalog.pg_constraint co JOIN rel r ON r.oid = co.conrelid
     WHERE co.contype = 'c' AND co.conislocal AND co.coninhcount = 0
    UNION ALL
    SELECT 'index:' || pg_catalog.format('%I.%I', r.nspname, ic.relname), 'definition',
           pg_catalog.pg_get_indexdef(i.indexrelid),
           pg_catalog.format('DROP INDEX %I.%I', r.nspname, ic.relname), '',
           pg_catalog.format('SELECT pg_catalog.pg_get_indexdef(%L::pg_catalog.regclass)',
                             pg_catalog.format('%I.%I', r.nspname, ic.relname))
      FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid JOIN rel r ON r.oid = i.indrelid
     WHERE NOT ic.relispartition
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
    UNION ALL
    SELECT 'view:' || r.q, 'definition', pg_catalog.pg_get_viewdef(r.oid, true),
           pg_catalog.format('CREATE OR REPLACE VIEW %s AS ', r.q), NULL,
           pg_catalog.format('SELECT pg_catalog.pg_get_viewdef(%L::pg_catalog.regclass, true)', r.q)
      FROM rel r WHERE r.relkind = 'v'
    UNION ALL
    SELECT 'policy:' || r.q || '.' || pg_catalog.quote_ident(p.polname), m.member, m.printed,
           pg_catalog.format('ALTER POLICY %I ON %s %s (', p.polname, r.q, m.clause), NULL,
           pg_catalog.format('SELECT pg_catalog.pg_get_expr(%s, polrelid) FROM pg_catalog.pg_policy '
                             'WHERE polrelid = %L::pg_catalog.regclass AND polname = %L', m.col, r.q, p.polname)
      FROM pg_catalog.pg_policy p JOIN rel r ON r.oid = p.polrelid,
           LATERAL (VALUES ('using', 'USING', 'polqual', pg_catalog.pg_get_expr(p.polqual, p.polrelid)),
                           ('with_check', 'WITH CHECK', 'polwithcheck', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)))
                   m(member, clause, col, printed)
    UNION ALL
    SELECT 'column:' || r.q || '.' || pg_catalog.quote_ident(a.attname), 'default',
           pg_catalog.pg_get_expr(d.adbin, d.adrelid),
           pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT ', r.q, a.attname), NULL,
           pg_catalog.format('SELECT pg_catalog.pg_get_expr(adbin, adrelid) FROM pg_catalog.pg_attrdef '
                             'WHERE adrelid = %L::pg_catalog.regclass AND adnum = %s', r.q, a.attnum)
      FROM pg_catalog.pg_attrdef d
      JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum AND a.attgenerated = ''
      JOIN rel r ON r.oid = d.adrelid
     WHERE pg_catalog.strpos(pg_catalog.pg_get_expr(d.adbin, d.adrelid), 'ARRAY[') > 0
)
SELECT key, member, printed, pre, redo2, reread FROM x
 WHERE printed IS NOT NULL AND pg_catalog.strpos(printed, '::') > 0
)SQL";

}  // namespace

std::string with_reprints(const std::string &snapshot) {
	spi::execute(kCandidates);
	struct Candidate {
		std::string key, member, printed, pre, reread;
		std::optional<std::string> redo2;
	};
	std::vector<Candidate> all;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		all.push_back({*spi::get_text(i, 1), *spi::get_text(i, 2), *spi::get_text(i, 3), *spi::get_text(i, 4),
		               *spi::get_text(i, 6), spi::get_text(i, 5)});
	std::map<std::string, std::string> patches;  // key -> {"member": "text", ...} members
	for (const Candidate &c : all) {
		std::optional<std::string> again;
		Subxact sx;  // rolled back whatever happens: the shadow stays as it was built
		try {
			if (c.redo2) {  // an index: dropped, then its printed CREATE INDEX
				spi::execute(c.pre.c_str());
				spi::execute(c.printed.c_str());
			} else {
				bool policy = c.pre.compare(0, 12, "ALTER POLICY") == 0;
				spi::execute((c.pre + c.printed + (policy ? ")" : "")).c_str());
			}
			spi::execute(c.reread.c_str());
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
