// dbkit_lint(sql): lint one migration's text. dbkit_lint_folder(folder): lint
// the folder's pending migrations against this database (table sizes, existing
// indexes and column types set the severities).
#include <fmt/format.h>

#include "db_plan.hpp"
#include "folder_arg.hpp"
#include "lint_extract.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

namespace {

std::vector<core::LintFinding> lint_one(const core::Migration &m) {
	LintInput in = lint_input(m);
	std::vector<core::LintFinding> out = in.parse_errors;
	for (auto &f : core::lint_migration(in.statements, std::string(m.sql), catalog_lookup()))
		out.push_back(std::move(f));
	return out;
}

}  // namespace

DBKIT_FUNCTION(dbkit_lint) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the sql argument is null");
	text *t = PG_GETARG_TEXT_PP(0);
	std::string sql(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	ResultRows out(fcinfo);
	core::Migration m;
	m.tag = "sql";
	m.file = "the statement text";
	m.sql = sql;
	spi::connect();
	auto findings = lint_one(m);
	spi::finish();
	for (const auto &f : findings)
		out.add({f.severity, f.rule, int32_t(f.statement), int32_t(f.line), f.message, f.hint});
	return out.done();
}

DBKIT_FUNCTION(dbkit_lint_folder) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the folder argument is null");
	Options opts = read_options(jsonb_arg(fcinfo, 1));
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0), /*writes=*/false);
	spi::connect();
	core::Plan plan = plan_against_database(lf, opts);
	for (const PendingLint &p : lint_pending(plan, lf.folder, /*with_parse_errors=*/true))
		for (const auto &f : p.findings)
			out.add({p.migration->tag, p.migration->file, f.severity, f.rule, int32_t(f.statement), int32_t(f.line),
			         f.message, f.hint});
	spi::finish();
	return out.done();
}
