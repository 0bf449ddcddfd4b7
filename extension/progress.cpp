#include "progress.hpp"

#include <fmt/format.h>

#include "errcodes.hpp"
#include "history.hpp"
#include "spi.hpp"

namespace dbkit {

void hold_session_lock(int64_t wait_ms) { acquire_deploy_lock(true, wait_ms); }

void release_session_lock() {
	LOCKTAG tag = deploy_lock_tag();
	PgCall([&]() noexcept { (void)LockRelease(&tag, ExclusiveLock, true); });
}

std::string invalid_indexes() {
	spi::execute(
	    "SELECT pg_catalog.string_agg(i.indexrelid::pg_catalog.regclass::text, ', ' ORDER BY 1) "
	    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE NOT i.indisvalid AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbkit')");
	return spi::get_text(0, 1).value_or("");
}

void refuse_if_interrupted(bool resume) {
	spi::execute("SELECT tag, status, next_statement, statements, coalesce(error, '') FROM dbkit.progress");
	if (spi::rows() == 0 || resume)
		return;
	std::string tag = *spi::get_text(0, 1), status = *spi::get_text(0, 2), error = *spi::get_text(0, 5);
	int64_t next = spi::get_int64(0, 3).value_or(1), total = spi::get_int64(0, 4).value_or(0);
	std::string invalid = invalid_indexes();
	throw Error(DBKIT_INTERRUPTED,
	            fmt::format("migration {} (non-transactional) stopped at statement {} of {}: {}", tag, next, total,
	                        status == "failed" ? error : "the run was interrupted (client or server stopped)"),
	            fmt::format("{}Fix the cause, then `dbkit migrate --resume` runs it again from statement {}; if you "
	                        "finished it by hand, record it: dbkit mark-applied {} --reason \"...\"",
	                        invalid.empty() ? "" : "Invalid indexes left by a failed concurrent build: " + invalid +
	                                                   " (DROP INDEX CONCURRENTLY them first). ",
	                        next, tag));
}

}  // namespace dbkit
