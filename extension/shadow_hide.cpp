// shadow_hide.hpp: the live objects, hidden from lookups by name while the shadow runs.
#include "shadow_hide.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

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

std::string lowercase(std::string s) {
	std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	return s;
}

bool mentions(const std::string &lowered, std::string_view name) {
	for (size_t at = lowered.find(name); at != std::string::npos; at = lowered.find(name, at + 1)) {
		size_t end = at + name.size();
		bool word_end = end == lowered.size() || !(std::isalnum(static_cast<unsigned char>(lowered[end])) || lowered[end] == '_');
		if (word_end)
			return true;
	}
	return false;
}

// Statements of dbkit's own, in their own subtransaction: 0 when they ran, else the
// SQLSTATE PostgreSQL refused them with. A cancel or a lock wait that timed out is
// not a refusal: it stops the shadow as anywhere else.
template <typename F>
int attempt(F &&f) {
	Subxact sx;
	try {
		f();
		sx.commit();
		return 0;
	} catch (const PgError &e) {
		int code = e.edata()->sqlerrcode;
		sx.rollback();
		if (code == ERRCODE_QUERY_CANCELED || code == ERRCODE_LOCK_NOT_AVAILABLE)
			throw;
		return code;
	}
}

// true when the stand-in is in place
bool hide_in_information_schema(bool &warned) {
	AsExtensionOwner owner;  // information_schema belongs to the bootstrap superuser
	int refused = attempt([&] {
		spi::execute(fmt::format("ALTER SCHEMA information_schema RENAME TO {}", kInformationSchemaAside).c_str());
		spi::execute("CREATE SCHEMA information_schema");
		spi::execute("GRANT USAGE ON SCHEMA information_schema TO PUBLIC");
		// each view (and table) of it again, without the rows any of whose *_schema columns names
		// a renamed schema. security_invoker: the caller reads the one behind it with the caller's
		// own rights (some are not PUBLIC's: _pg_user_mappings holds passwords), and gets SELECT on
		// the stand-in only where PUBLIC has it on the original
		spi::execute(
		    "SELECT pg_catalog.format('CREATE VIEW information_schema.%I WITH (security_invoker = true) AS "
		    "SELECT * FROM %I.%I%s', c.relname, n.nspname, "
		    "  c.relname, coalesce(' WHERE ' || pg_catalog.string_agg(pg_catalog.format("
		    "    'coalesce(%I::pg_catalog.text, '''') NOT LIKE %L', a.attname, 'dbkit\\_shadow\\_%'), ' AND ' "
		    "    ORDER BY a.attnum) FILTER (WHERE a.attname IS NOT NULL), '')), "
		    "  CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.aclexplode(c.relacl) x WHERE x.grantee = 0 "
		    "                    AND x.privilege_type = 'SELECT') "
		    "       THEN pg_catalog.format('GRANT SELECT ON information_schema.%I TO PUBLIC', c.relname) END "
		    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		    "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
		    "  AND (a.attname LIKE '%\\_schema' OR a.attname = 'schema_name') "
		    "WHERE n.nspname = $1 AND c.relkind IN ('r', 'v') GROUP BY c.oid, c.relname, n.nspname",
		    {spi::text(kInformationSchemaAside)});
		std::vector<std::string> statements;
		for (uint64_t i = 0; i < spi::rows(); ++i) {
			statements.push_back(*spi::get_text(i, 1));
			if (auto grant = spi::get_text(i, 2))
				statements.push_back(*grant);
		}
		for (const std::string &st : statements)
			spi::execute(st.c_str());
	});
	if (!refused)
		return true;
	if (!std::exchange(warned, true))
		warn({core::Severity::Warning, "shadow.information_schema", "",
		      fmt::format("the shadow could not stand in for information_schema ({}): a statement that asks "
		                  "information_schema whether an object exists finds the live one of that name",
		                  refused == ERRCODE_INSUFFICIENT_PRIVILEGE ? "the dbkit extension's owner is not a superuser"
		                                                            : "SQLSTATE " + std::string(unpack_sql_state(refused))),
		      "Such a statement may skip, in the shadow, what it builds on an empty database. Install the extension "
		      "as a superuser, or have the statement ask pg_catalog instead."});
	return false;
}

// A DO block made an object over a stand-in (a view over pg_class): it cannot stay, and
// dropping it with the stand-in would lose it silently.
[[noreturn]] void throw_built_over(const std::string &name) {
	throw Error(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST,
	            fmt::format("the shadow could not build the desired schema: a DO block made an object that reads "
	                        "{}, which dbkit stands in for while a DO block runs in the shadow",
	                        name),
	            fmt::format("Inside DO blocks the shadow hides the live schema from {} (so that an existence check "
	                        "sees only what the migrations built); an object made over it there cannot be kept. "
	                        "Create it outside the DO block, or write pg_catalog.{} inside it. Nothing was changed.",
	                        name, name));
}

// information_schema as it was: the stand-in's views dropped (each by name: anything a DO
// block made over them stops it, loudly), the real one named back
void unhide_information_schema() {
	AsExtensionOwner owner;
	spi::execute("SELECT pg_catalog.quote_ident(c.relname) FROM pg_catalog.pg_class c "
	             "WHERE c.relnamespace = 'information_schema'::pg_catalog.regnamespace AND c.relkind = 'v'");
	std::vector<std::string> views;
	for (uint64_t i = 0; i < spi::rows(); ++i)
		views.push_back(*spi::get_text(i, 1));
	for (const std::string &v : views)
		if (attempt([&] { spi::execute(("DROP VIEW information_schema." + v).c_str()); }) ==
		    ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST)
			throw_built_over("information_schema." + v);
	if (attempt([&] { spi::execute("DROP SCHEMA information_schema"); }) == ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST)
		throw_built_over("information_schema");
	spi::execute(fmt::format("ALTER SCHEMA {} RENAME TO information_schema", kInformationSchemaAside).c_str());
}

}  // namespace

LookupStandIns::LookupStandIns(const std::vector<const core::Migration *> &sources,
                               const std::vector<std::string> &renamed_oids) {
	if (renamed_oids.empty())
		return;
	std::string all;
	for (const core::Migration *m : sources)
		all.append(m->sql).push_back('\n');
	const std::string lowered = lowercase(std::move(all));
	oids_ = "'{";
	for (size_t i = 0; i < renamed_oids.size(); ++i)
		oids_ += (i ? "," : "") + renamed_oids[i];
	oids_ += "}'::pg_catalog.oid[]";
	for (const Lookup &l : kCatalogLookups)
		if (mentions(lowered, l.name))
			names_.push_back(l.name);
}

void LookupStandIns::before(Node *tree, std::string_view text) {
	if (oids_.empty())
		return;
	const bool in_do = tree && IsA(tree, DoStmt);
	if (in_do && !names_.empty())
		create();
	else
		drop();
	// information_schema's stand-in only for a DO block that names it: a view or a column type a
	// migration makes over information_schema must bind to the real one
	if (in_do && mentions(lowercase(std::string(text)), "information_schema")) {  // only a DO block's text is read
		if (!information_schema_hidden_)
			information_schema_hidden_ = hide_in_information_schema(warned_information_schema_);
	} else if (information_schema_hidden_) {
		unhide_information_schema();
		information_schema_hidden_ = false;
	}
}

void LookupStandIns::create() {
	if (present_)
		return;
	present_ = true;
	std::string refused;
	int code = 0;
	for (const Lookup &l : kCatalogLookups) {
		if (std::find(names_.begin(), names_.end(), l.name) == names_.end())
			continue;
		// fixed names; the oids are digits read from pg_namespace
		std::string keep = fmt::format(fmt::runtime(l.keep), oids_);
		std::string sql = fmt::format("CREATE TEMPORARY VIEW {0} AS SELECT * FROM pg_catalog.{0} WHERE {1}", l.name, keep);
		if (int c = attempt([&] { spi::execute(sql.c_str()); })) {
			refused += (refused.empty() ? "" : ", ") + std::string(l.name);
			code = c;
		} else {
			created_.push_back(l.name);
		}
	}
	if (refused.empty() || warned_)
		return;
	warned_ = true;
	warn({core::Severity::Warning, "shadow.catalog_lookups", "",
	      fmt::format("the shadow could not hide the live schema from {} ({}): a statement that asks {} whether "
	                  "an object exists finds the live one of that name",
	                  refused,
	                  code == ERRCODE_INSUFFICIENT_PRIVILEGE ? "no TEMPORARY privilege on this database"
	                                                         : "SQLSTATE " + std::string(unpack_sql_state(code)),
	                  refused.find(',') == std::string::npos ? "it" : "them"),
	      "Such a statement may skip, in the shadow, what it builds on an empty database. Grant TEMPORARY on "
	      "the database to this role."});
}

void LookupStandIns::drop() {
	if (!present_)
		return;
	present_ = false;
	std::vector<const char *> created = std::move(created_);
	created_.clear();
	for (const char *name : created)
		if (attempt([&] { spi::execute(fmt::format("DROP VIEW IF EXISTS pg_temp.{}", name).c_str()); }) ==
		    ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST)
			throw_built_over(name);
}

void LookupStandIns::finish() {
	drop();
	if (information_schema_hidden_) {
		unhide_information_schema();
		information_schema_hidden_ = false;
	}
}

bool LookupStandIns::active() const { return present_ || information_schema_hidden_; }

}  // namespace dbkit
