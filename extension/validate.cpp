// dbkit_validate(folder, options): every finding about a folder, one row each:
// the folder itself, its snapshots, each migration through PostgreSQL's parser,
// and the folder against this database's history. Changes nothing.
#include <map>

#include <fmt/format.h>

#include "core/drizzle_snapshots.hpp"
#include "execute.hpp"
#include "db_plan.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "lint_extract.hpp"
#include "sha256.hpp"
#include "spi.hpp"
#include "srf.hpp"

using namespace dbkit;

DBKIT_FUNCTION(dbkit_validate) {
	if (PG_ARGISNULL(0))
		throw Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "the folder argument is null");
	Options opts = read_options(jsonb_arg(fcinfo, 1));
	ResultRows out(fcinfo);
	core::FolderInput in = read_folder(jsonb_arg(fcinfo, 0));
	core::Folder folder = core::load_folder(in);

	std::vector<core::Finding> findings = folder.findings;
	for (auto &f : core::check_drizzle_snapshots(in, folder))
		findings.push_back(std::move(f));
	for (auto &f : core::check_files(folder))
		findings.push_back(std::move(f));
	for (const auto &m : folder.migrations) {
		for (auto &f : statement_findings(m))
			findings.push_back(std::move(f));
		if (m.down_sql) {  // a down file goes through the parser too
			core::Migration down = m;
			down.file = m.down_file;
			down.sql = *m.down_sql;
			for (auto &f : statement_findings(down))
				findings.push_back(std::move(f));
		}
	}

	// Against the database, only when the folder itself could be read whole:
	// a half-read folder would make every applied migration look missing.
	if (!core::has_errors(folder.findings)) {
		LoadedFolder lf;
		lf.input = in;
		lf.folder = folder;
		for (const auto &m : folder.migrations)
			lf.hashes.push_back(sha256_hex(m.sql));
		spi::connect();
		core::Plan plan = plan_against_database(lf, opts);
		// the pending migrations through the linter, sized against this database
		for (const PendingLint &p : lint_pending(plan, folder, /*with_parse_errors=*/false))
			for (const auto &f : p.findings)
				if (f.severity != "info")
					findings.push_back({f.severity == "error" ? core::Severity::Error : core::Severity::Warning,
					                    "lint." + f.rule, p.migration->tag, p.migration->file + ": " + f.message, f.hint});
		for (auto &f : plan.refusals)
			findings.push_back(std::move(f));
		// a down file edited (or deleted) since its migration was recorded
		std::map<std::string, const core::Migration *> by_tag;
		for (const auto &m : folder.migrations)
			by_tag.emplace(m.tag, &m);
		spi::execute("SELECT tag, down_hash FROM dbkit.migrations WHERE down_hash IS NOT NULL ORDER BY id");
		std::vector<std::pair<std::string, std::string>> recorded;
		for (uint64_t i = 0; i < spi::rows(); ++i)
			recorded.emplace_back(*spi::get_text(i, 1), *spi::get_text(i, 2));
		for (const auto &[tag, down_hash] : recorded) {
			auto m = by_tag.find(tag);
			if (m == by_tag.end())
				continue;  // a missing migration is reported already
			if (!m->second->down_sql)
				findings.push_back({core::Severity::Warning, "history.down_missing", tag,
				                    fmt::format("the down file of {} was deleted since the migration was applied", tag),
				                    "Restore it from version control: dbkit rollback refuses a migration without one."});
			else if (sha256_hex(*m->second->down_sql) != down_hash)
				findings.push_back(
				    {core::Severity::Warning, "history.down_modified", tag,
				     fmt::format("{} was edited since {} was applied (recorded sha256 {}, now {})", m->second->down_file,
				                 tag, down_hash.substr(0, 12), sha256_hex(*m->second->down_sql).substr(0, 12)),
				     "Review the change: dbkit rollback runs the down file as it is now and records both hashes in "
				     "dbkit.events. Restore the file from version control if the edit was not meant."});
		}
		for (auto &f : plan.notices)
			findings.push_back(std::move(f));
		spi::finish();
	} else {
		PgCall([]() noexcept {
			ereport(NOTICE, (errmsg("the folder has errors: checks against the database history were skipped")));
		});
	}
	for (const auto &f : findings)
		out.add({std::string(core::severity_name(f.severity)), f.code, f.subject, f.message, f.hint});
	return out.done();
}
