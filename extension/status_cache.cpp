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
#include "deploy_lock.hpp"
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
	// Per row, a 64-bit hash of each column the status reads, seeded by the
	// row's id (or place) and the column, so no two fields can run into each
	// other; XORed over the rows. NULL hashes to a constant, not to nothing.
	// dbkit.migrations: the plan reads tag, hash, idx, created_at in id order,
	// the answer shows applied_at, applied_by, how. 6 ms at 10,000 rows where
	// a whole-row text and md5 took 45.
	spi::execute(
	    "SELECT pg_catalog.count(*), pg_catalog.bit_xor("
	    "pg_catalog.hashtextextended(m.tag, m.id * 8 + 1) "
	    "# pg_catalog.hashtextextended(m.hash, m.id * 8 + 2) "
	    "# pg_catalog.hashint8extended(m.idx, m.id * 8 + 3) "
	    "# COALESCE(pg_catalog.hashint8extended(m.created_at, m.id * 8 + 4), 4) "
	    // the instant, whatever the session's TimeZone: its distance from a fixed one
	    "# pg_catalog.interval_hash_extended(m.applied_at OPERATOR(pg_catalog.-) "
	    "'2000-01-01 00:00:00+00'::pg_catalog.timestamptz, m.id * 8 + 5) "
	    "# pg_catalog.hashtextextended(m.applied_by, m.id * 8 + 6) "
	    "# pg_catalog.hashtextextended(m.how, m.id * 8 + 7)) "
	    "FROM dbkit.migrations m",
	    {}, true);
	basis += "migrations " + value(1) + " " + value(2) + "\n";
	// a few rows at most: their whole text
	spi::execute("SELECT pg_catalog.count(*), pg_catalog.md5(pg_catalog.string_agg(p::text, E'\\n')) FROM dbkit.progress p",
	             {}, true);
	basis += "progress " + value(1) + " " + value(2) + "\n";
	// a run's progress row reads "running now" while its session holds the deploy lock,
	// "interrupted" once it is gone (killed): which one is part of the answer
	if (value(1) != "0")
		basis += "live " + std::string(deploy_lock_holders().empty() ? "no" : "yes") + "\n";
	if (o.drizzle_sync) {
		DrizzleTable dz(o);  // refuses a table it may not trust, as the plan's read does
		basis += "drizzle " + spi::sql_ident(o.drizzle_schema) + "." + spi::sql_ident(o.drizzle_table);
		if (dz.exists()) {
			// the very query the plan's read runs (no other code on the table),
			// each row seeded by its place in the scan: a new order is a new key
			spi::execute(fmt::format("SELECT pg_catalog.count(*), pg_catalog.bit_xor("
			                         "COALESCE(pg_catalog.hashint8extended(r.id, r.n * 8 + 1), 1) "
			                         "# COALESCE(pg_catalog.hashtextextended(r.hash, r.n * 8 + 2), 2) "
			                         "# COALESCE(pg_catalog.hashint8extended(r.created_at, r.n * 8 + 3), 3) "
			                         "# COALESCE(pg_catalog.hashtextextended(r.name, r.n * 8 + 4), 4)) "
			                         "FROM (SELECT q.*, pg_catalog.row_number() OVER () AS n "
			                         "FROM ({}) q(id, hash, created_at, name)) r",
			                         dz.read_sql())
			                 .c_str(),
			             {}, true);
			basis += " " + value(1) + " " + value(2) + "\n";
		} else {
			basis += " absent\n";
		}
	} else {
		basis += "drizzle off\n";
	}
	spi::finish();
	basis += fmt::format("out_of_order {}\n", o.out_of_order);
	return text_datum(sha256_hex(basis));
}
