// The newest drizzle snapshot of a folder (what schema.ts declared at the last
// drizzle-kit generate) as PostgreSQL builds it: its DDL (core/snapshot_ddl.hpp)
// run in the shadow, then read like the live schema.
#include <algorithm>
#include <fmt/format.h>

#include "code_side.hpp"
#include "core/drizzle_snapshots.hpp"
#include "core/snapshot_ddl.hpp"
#include "core/text.hpp"
#include "errcodes.hpp"
#include "run_state.hpp"
#include "spi.hpp"

namespace dbkit {
namespace {

// The migrations after the one the snapshot was written with: "0006_x, 0007_y".
std::string migrations_after(const core::Folder &f, const std::string &snapshot_file) {
	size_t at = f.migrations.size();
	for (size_t i = 0; i < f.migrations.size(); ++i) {
		const core::Migration &m = f.migrations[i];
		bool journal_match = snapshot_file.rfind("meta/", 0) == 0 && snapshot_file.size() > 9 &&
		                     m.tag.compare(0, 4, snapshot_file, 5, 4) == 0;
		size_t slash = m.file.find('/');
		bool folder_match = slash != std::string::npos && snapshot_file == m.file.substr(0, slash) + "/snapshot.json";
		if (journal_match || folder_match)
			at = i;
	}
	std::string out;
	for (size_t i = at + 1; i < f.migrations.size(); ++i)
		out += (out.empty() ? "" : ", ") + f.migrations[i].tag;
	return out;
}

// The shadow names the statement it failed on as "migration FILE, statement N (line L)":
// lines of the DDL dbkit wrote for the snapshot, which no one sees. Said instead by the
// statement's first line, which names the table, type or index of the snapshot.
std::string in_snapshot_terms(std::string what, const std::string &file, const std::string &ddl) {
	const std::string head = "migration " + file + ", statement ";
	size_t at = what.find(head);
	if (at == std::string::npos)
		return what;
	size_t num = at + head.size(), close = what.find("): ", num);
	if (close == std::string::npos)
		return what;
	int n = std::atoi(what.c_str() + num);
	std::vector<core::Chunk> chunks = core::split_breakpoints(ddl);
	if (n < 1 || static_cast<size_t>(n) > chunks.size())
		return what;
	std::string first(chunks[n - 1].text.substr(core::skip_space_and_comments(chunks[n - 1].text, 0)));
	first = first.substr(0, first.find('\n'));
	what.replace(at, close + 3 - at, "");
	return what + fmt::format(", in the statement dbkit writes for it that begins {}", first);
}

}  // namespace

// The newest snapshot's DDL, or nullopt when the folder has none. `unsupported`
// receives why a snapshot dbkit cannot build was skipped (empty otherwise).
std::optional<std::pair<std::string, std::string>> snapshot_ddl_of(const LoadedFolder &lf, std::string &unsupported) {
	auto snap = core::newest_snapshot(lf.input, lf.folder);
	if (!snap)
		return std::nullopt;
	core::JsonValue v;
	core::JsonError err;
	if (!core::parse_json(snap->second, v, err))
		throw Error(DBKIT_FOLDER_INVALID,
		            fmt::format("{}: invalid JSON at line {}, column {}: {}", snap->first, err.line, err.column,
		                        err.message),
		            "Restore the snapshot from version control, or run drizzle-kit generate again.");
	// where the snapshot is ambiguous, what the database has (core/snapshot_ddl.hpp)
	core::SnapshotDdlHints hints;
	spi::execute(
	    "SELECT n.nspname::text, c.relname::text, co.conname::text FROM pg_catalog.pg_constraint co "
	    "JOIN pg_catalog.pg_class c ON c.oid = co.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE co.contype = 'p' AND co.conname::text OPERATOR(pg_catalog.<>) pg_catalog.concat(c.relname, '_pkey')");
	for (uint64_t i = 0; i < spi::rows(); ++i)
		hints.primary_key_names[core::table_key(*spi::get_text(i, 1), *spi::get_text(i, 2))] = *spi::get_text(i, 3);
	core::SnapshotDdl ddl;
	std::string why;
	if (!core::snapshot_to_ddl(v, ddl, why, hints)) {
		unsupported = fmt::format("{}: {}", snap->first, why);
		return std::nullopt;
	}
	return std::make_pair(snap->first, core::join_ddl(ddl.statements));
}

std::optional<CodeSnapshot> snapshot_side(const LoadedFolder &lf, const ShadowOptions &opts,
                                          const std::string &comments_from, bool *warned) {
	std::string unsupported;
	auto ddl = snapshot_ddl_of(lf, unsupported);
	if (!ddl) {
		// a format dbkit cannot build (drizzle 1.0's "diff" snapshots): the
		// migrations stay the code's side, and the client is told why
		if (!unsupported.empty()) {
			std::string msg = unsupported + "; the code's side is what the migrations build";
			PgCall([&]() noexcept { ereport(WARNING, (errmsg("%s", msg.c_str()))); });
			if (warned)
				*warned = true;
		}
		return std::nullopt;
	}
	core::Migration m = schema_file(ddl->second, ddl->first);
	CodeSnapshot out;
	out.file = ddl->first;
	std::string built;
	try {
		built = code_side({&m}, ddl->first, opts);
	} catch (const PgError &e) {
		// A snapshot naming what no snapshot can define (a domain or composite type
		// made by a hand-written migration, as drizzle's customType names it): the
		// migrations stay the code's side, and the client is told why. The shadow
		// rolled its subtransaction back; a cancel, a lock timeout or missing rights
		// are not the snapshot's and still fail.
		// A value the snapshot holds that PostgreSQL does not take (class 22: a default
		// drizzle-kit wrote in a form dbkit does not translate) is the snapshot's too.
		int code = e.edata()->sqlerrcode;
		const int category = ERRCODE_TO_CATEGORY(code);
		if ((category != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION && category != ERRCODE_DATA_EXCEPTION) ||
		    code == ERRCODE_INSUFFICIENT_PRIVILEGE)
			throw;
		std::string msg = fmt::format("{}: PostgreSQL cannot build it ({}); the code's side is what the migrations build",
		                              ddl->first, in_snapshot_terms(e.what(), ddl->first, ddl->second));
		PgCall([&]() noexcept { ereport(WARNING, (errmsg("%s", msg.c_str()))); });
		if (warned)
			*warned = true;
		return std::nullopt;
	}
	out.schema = comparable(built, &comments_from);
	out.after = migrations_after(lf.folder, ddl->first);
	return out;
}

}  // namespace dbkit

using namespace dbkit;

DBKIT_FUNCTION(dbkit_schema_from_snapshot) {
	if (PG_ARGISNULL(0))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument is null");
	EngineOptions o = read_engine_options(jsonb_arg(fcinfo, 1));
	LoadedFolder lf = load_folder_arg(jsonb_arg(fcinfo, 0), /*writes=*/false);
	std::string unsupported;
	spi::connect();  // the snapshot's DDL follows the database where the snapshot is ambiguous
	auto ddl = snapshot_ddl_of(lf, unsupported);
	if (!ddl)
		throw Error(DBKIT_NO_SNAPSHOT,
		            unsupported.empty() ? "the folder has no drizzle snapshot" : unsupported,
		            "drizzle-kit generate writes meta/NNNN_snapshot.json (or <migration>/snapshot.json); the client "
		            "ships them with --from-snapshot. Otherwise pass the schema as SQL (--schema FILE).");
	// Migrations after the newest snapshot (hand-written, without drizzle-kit): it does not
	// describe them, and a plan toward it would undo what they do.
	if (std::string after = migrations_after(lf.folder, ddl->first); !after.empty()) {
		size_t n = 1 + std::count(after.begin(), after.end(), ',');
		if (n > 3)  // the first and the last
			after = fmt::format("{} ... {} ({} migrations)", after.substr(0, after.find(',')),
			                    after.substr(after.rfind(", ") + 2), n);
		throw Error(DBKIT_NO_SNAPSHOT,
		            fmt::format("{} is older than {}: it does not describe what {}, so it cannot be the desired schema",
		                        ddl->first, after, n == 1 ? "that migration does" : "those migrations do"),
		            "Nothing was written. Run drizzle-kit generate to write a snapshot that includes them (drizzle-kit "
		            "generate --custom writes one for a hand-written migration), or pass the desired schema as SQL "
		            "(--schema FILE). dbkit drift --dir shows where the snapshot and the migrations differ.");
	}
	core::Migration m = schema_file(ddl->second, ddl->first);
	RunScope run;
	std::string snap = shadow_snapshot({&m}, o.shadow);
	snap = marked_without_comments(snap);  // drizzle snapshots declare no comments
	spi::finish();
	return jsonb_datum(snap);
}
