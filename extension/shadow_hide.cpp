// shadow_hide.hpp: the live objects, hidden from lookups by name while the shadow runs.
#include "shadow_hide.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "as_owner.hpp"
#include "folder_arg.hpp"
#include "spi.hpp"
#include "subxact.hpp"

namespace dbkit {
namespace {

// pg_catalog's relations a migration asks whether something exists, and which of
// their rows belong to the renamed schemas: {} stands for the renamed schemas' oids
// (an oid[] literal), LIKE patterns name them through the shadow prefix.
struct Lookup {
	const char *name;
	const char *keep;
};
constexpr Lookup kCatalogLookups[] = {
    {"pg_namespace", "oid <> ALL ({})"},
    {"pg_class", "relnamespace <> ALL ({})"},
    {"pg_type", "typnamespace <> ALL ({})"},
    {"pg_constraint", "connamespace <> ALL ({})"},
    {"pg_proc", "pronamespace <> ALL ({})"},
    {"pg_operator", "oprnamespace <> ALL ({})"},
    {"pg_collation", "collnamespace <> ALL ({})"},
    {"pg_statistic_ext", "stxnamespace <> ALL ({})"},
    {"pg_attribute", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = attrelid AND c.relnamespace = ANY ({}))"},
    {"pg_attrdef", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = adrelid AND c.relnamespace = ANY ({}))"},
    {"pg_index", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = indrelid AND c.relnamespace = ANY ({}))"},
    {"pg_trigger", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = tgrelid AND c.relnamespace = ANY ({}))"},
    {"pg_policy", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = polrelid AND c.relnamespace = ANY ({}))"},
    {"pg_rewrite", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = ev_class AND c.relnamespace = ANY ({}))"},
    {"pg_sequence", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = seqrelid AND c.relnamespace = ANY ({}))"},
    {"pg_inherits", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = inhrelid AND c.relnamespace = ANY ({}))"},
    {"pg_enum", "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.oid = enumtypid AND t.typnamespace = ANY ({}))"},
    {"pg_tables", "schemaname NOT LIKE 'dbkit\\_shadow\\_%'"},
    {"pg_views", "schemaname NOT LIKE 'dbkit\\_shadow\\_%'"},
    {"pg_matviews", "schemaname NOT LIKE 'dbkit\\_shadow\\_%'"},
    {"pg_indexes", "schemaname NOT LIKE 'dbkit\\_shadow\\_%'"},
    {"pg_sequences", "schemaname NOT LIKE 'dbkit\\_shadow\\_%'"},
    {"pg_policies", "schemaname NOT LIKE 'dbkit\\_shadow\\_%'"},
    {"pg_stat_user_tables", "schemaname NOT LIKE 'dbkit\\_shadow\\_%'"},
    {"pg_stat_all_tables", "schemaname NOT LIKE 'dbkit\\_shadow\\_%'"},
};

constexpr const char *kInformationSchemaAside = "dbkit_shadow_information_schema";

bool mentions(const std::string &lowered, std::string_view name) {
	for (size_t at = lowered.find(name); at != std::string::npos; at = lowered.find(name, at + 1)) {
		size_t end = at + name.size();
		bool word_end = end == lowered.size() || !(std::isalnum(static_cast<unsigned char>(lowered[end])) || lowered[end] == '_');
		if (word_end)
			return true;
	}
	return false;
}

// A statement of dbkit's own, in its own subtransaction: false when PostgreSQL refused it.
template <typename F>
bool attempt(F &&f) {
	Subxact sx;
	try {
		f();
		sx.commit();
		return true;
	} catch (const PgError &) {
		sx.rollback();
		return false;
	}
}

void hide_in_catalog(const std::string &lowered, const std::string &oids) {
	for (const Lookup &l : kCatalogLookups) {
		if (!mentions(lowered, l.name))
			continue;
		// fixed names; the oids are digits read from pg_namespace
		std::string keep = fmt::format(fmt::runtime(l.keep), oids);
		std::string sql = fmt::format("CREATE TEMPORARY VIEW {0} AS SELECT * FROM pg_catalog.{0} WHERE {1}", l.name, keep);
		attempt([&] { spi::execute(sql.c_str()); });
	}
}

void hide_in_information_schema() {
	AsExtensionOwner owner;  // information_schema belongs to the bootstrap superuser
	bool hidden = attempt([&] {
		spi::execute(fmt::format("ALTER SCHEMA information_schema RENAME TO {}", kInformationSchemaAside).c_str());
		spi::execute("CREATE SCHEMA information_schema");
		spi::execute("GRANT USAGE ON SCHEMA information_schema TO PUBLIC");
		// each view (and table) of it again, without the rows any of whose *_schema columns names a renamed schema
		spi::execute(
		    "SELECT pg_catalog.format('CREATE VIEW information_schema.%I AS SELECT * FROM %I.%I%s', c.relname, n.nspname, "
		    "  c.relname, coalesce(' WHERE ' || pg_catalog.string_agg(pg_catalog.format("
		    "    'coalesce(%I::pg_catalog.text, '''') NOT LIKE %L', a.attname, 'dbkit\\_shadow\\_%'), ' AND ' "
		    "    ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL), '')) "
		    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		    "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
		    "  AND (a.attname LIKE '%\\_schema' OR a.attname = 'schema_name') "
		    "WHERE n.nspname = $1 AND c.relkind IN ('r', 'v') GROUP BY c.oid, c.relname, n.nspname",
		    {spi::text(kInformationSchemaAside)});
		std::vector<std::string> views;
		for (uint64_t i = 0; i < spi::rows(); ++i)
			views.push_back(*spi::get_text(i, 1));
		for (const std::string &v : views)
			spi::execute(v.c_str());
		spi::execute("GRANT SELECT ON ALL TABLES IN SCHEMA information_schema TO PUBLIC");
	});
	if (!hidden)
		warn({core::Severity::Warning, "shadow.information_schema", "",
		      "the shadow could not stand in for information_schema (the dbkit extension's owner is not a superuser): "
		      "a statement that asks information_schema whether an object exists finds the live one of that name",
		      "Such a statement may skip, in the shadow, what it builds on an empty database. Install the extension "
		      "as a superuser, or have the statement ask pg_catalog instead."});
}

}  // namespace

void hide_renamed_from_lookups(const std::vector<const core::Migration *> &sources,
                               const std::vector<std::string> &renamed_oids) {
	if (renamed_oids.empty())
		return;
	std::string lowered;
	for (const core::Migration *m : sources)
		lowered.append(m->sql).push_back('\n');
	std::transform(lowered.begin(), lowered.end(), lowered.begin(),
	               [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	std::string oids = "'{";
	for (size_t i = 0; i < renamed_oids.size(); ++i)
		oids += (i ? "," : "") + renamed_oids[i];
	oids += "}'::pg_catalog.oid[]";
	hide_in_catalog(lowered, oids);
	if (mentions(lowered, "information_schema"))
		hide_in_information_schema();
}

}  // namespace dbkit
