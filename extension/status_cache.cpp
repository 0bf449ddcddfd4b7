// The server's half of `dbkit status --dir` from a cache (docs/design.md,
// "status from a cache"):
//   dbkit._folder_digest(folder)        the folder's digest (core/folder_digest.hpp),
//                                       computed from the payload itself
//   dbkit._status_fingerprint(options)  everything else a folder's status reads
// dbkit._status_key (SQL) hashes both; dbkit_status_store files an answer under
// it, dbkit_status_cached finds it.
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/folder_digest.hpp"
#include "history.hpp"
#include "payload.hpp"
#include "sha256.hpp"
#include "spi.hpp"
#include "sql_version.hpp"

using namespace dbkit;

namespace {

// Bumped whenever what _folder_status answers changes for the same inputs: a
// new library never reads an older one's answers.
constexpr const char *kStatusCacheFormat = "status-cache-1";

Datum text_datum(const std::string &s) {
	return PointerGetDatum(PgCall([&]() noexcept { return cstring_to_text_with_len(s.data(), static_cast<int>(s.size())); }));
}

// One value of the first row, "NULL" spelled apart from the text "NULL".
std::string value(int col) {
	std::optional<std::string> v = spi::get_text(0, col);
	return v ? "'" + *v + "'" : "NULL";
}

}  // namespace

// NULL when the folder has findings (errors or warnings): its status is never
// cached, so an answer is always one that raised no WARNING to replay.
DBKIT_FUNCTION(dbkit_folder_digest) {
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	core::FolderInput in = read_folder(jsonb_arg(fcinfo, 0));
	if (!core::load_folder(in).findings.empty())
		PG_RETURN_NULL();
	std::optional<std::string> journal;
	if (in.journal)
		journal = sha256_hex(*in.journal);  // the bytes of the file, as the client hashed them
	std::vector<std::pair<std::string, std::string>> files;
	files.reserve(in.files.size());
	for (const auto &[path, content] : in.files)
		files.emplace_back(std::string(path), sha256_hex(content));
	return text_datum(core::folder_digest(journal, std::move(files)));
}

// Everything dbkit_status(folder, options) reads besides the folder, read with
// the caller's rights (so a role that could not get the answer gets the same
// error here): dbkit.migrations (every column, in id order: the plan reads
// tag, hash, idx, created_at; the answer shows applied_at, applied_by, how),
// dbkit.progress, drizzle's table when the options sync it (after the same
// trust checks as the plan's read), the options, and what the parse of a
// pending migration's statements depends on.
DBKIT_FUNCTION(dbkit_status_fingerprint) {
	Options o = read_options(PG_NARGS() > 0 && !PG_ARGISNULL(0) ? jsonb_arg(fcinfo, 0) : nullptr);
	std::string basis = std::string(kStatusCacheFormat) + "\nlibrary " + kLibraryVersion + "\n";
	spi::connect();
	spi::execute(
	    "SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'dbkit'), "
	    "pg_catalog.current_setting('server_version_num'), pg_catalog.current_setting('standard_conforming_strings'), "
	    "pg_catalog.current_setting('escape_string_warning'), pg_catalog.current_setting('server_encoding')",
	    {}, true);
	for (int col = 1; col <= 5; ++col)
		basis += value(col) + "\n";
	// the row's text covers every column, NULLs and quoting included; in id
	// order, as read_history reads it
	spi::execute(
	    "SELECT pg_catalog.count(*), pg_catalog.md5(pg_catalog.string_agg(m::text, E'\\n' ORDER BY m.id)) "
	    "FROM dbkit.migrations m",
	    {}, true);
	basis += "migrations " + value(1) + " " + value(2) + "\n";
	spi::execute("SELECT pg_catalog.count(*), pg_catalog.md5(pg_catalog.string_agg(p::text, E'\\n')) FROM dbkit.progress p",
	             {}, true);
	basis += "progress " + value(1) + " " + value(2) + "\n";
	if (o.drizzle_sync) {
		DrizzleTable dz(o);  // refuses a table it may not trust, as the plan's read does
		basis += "drizzle " + spi::sql_ident(o.drizzle_schema) + "." + spi::sql_ident(o.drizzle_table);
		if (dz.exists()) {
			// in the order a plain read returns them, as DrizzleTable::read does
			spi::execute(fmt::format("SELECT pg_catalog.count(*), pg_catalog.md5(pg_catalog.string_agg(d::text, E'\\n')) "
			                         "FROM {}.{} d",
			                         spi::sql_ident(o.drizzle_schema), spi::sql_ident(o.drizzle_table))
			                 .c_str(),
			             {}, true);
			basis += " " + value(1) + " " + value(2);
		} else {
			basis += " absent";
		}
		basis += "\n";
	} else {
		basis += "drizzle off\n";
	}
	spi::finish();
	basis += fmt::format("out_of_order {}\n", o.out_of_order);
	return text_datum(sha256_hex(basis));
}
