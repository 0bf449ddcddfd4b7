#include "progress.hpp"

#include <fmt/format.h>

#include "errcodes.hpp"
#include "execute.hpp"
#include "history.hpp"
#include "locks.hpp"
#include "sha256.hpp"
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

IndexState index_state(const std::string &table, const std::string &name) {
	// the table as the migration names it, under the session's search_path (dbkit's
	// own SPI queries run with search_path = pg_catalog)
	Oid relid = resolve_relation(table);
	if (relid == InvalidOid)
		return {"absent", ""};
	// an index of that name on another table of the schema is not the statement's: it is
	// neither skipped as built nor dropped as invalid (the statement then fails on the name)
	spi::execute_cached(
	    "SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), i.indisvalid, "
	    "i.indrelid OPERATOR(pg_catalog.=) $1::pg_catalog.oid "
	    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE c.relname = $2 AND c.relnamespace = "
	    "(SELECT t.relnamespace FROM pg_catalog.pg_class t WHERE t.oid = $1::pg_catalog.oid)",
	    {spi::text(std::to_string(relid)), spi::text(name)});
	if (spi::rows() == 0)
		return {"absent", ""};
	if (spi::get_text(0, 3) != std::optional<std::string>("t"))
		return {"other table", *spi::get_text(0, 1)};
	return {spi::get_text(0, 2) == std::optional<std::string>("t") ? "valid" : "invalid", *spi::get_text(0, 1)};
}

std::pair<int, std::string> invalid_built_index(const std::vector<PlannedStatement> &stmts) {
	for (const auto &s : stmts) {
		if (s.index_name.empty())
			continue;
		IndexState st = index_state(s.index_table, s.index_name);
		if (st.state == "invalid")
			return {s.number, st.qualified};
	}
	return {0, ""};
}

std::string statement_hashes(const std::vector<PlannedStatement> &stmts) {
	std::string a = "{";
	for (const auto &s : stmts)
		a += (a.size() > 1 ? "," : "") + sha256_hex(s.text);
	return a + "}";
}

void check_resumed_statements(const std::string &tag, const std::string &file, const std::string &file_hash,
                              const std::vector<PlannedStatement> &stmts, int64_t start, const std::string &again) {
	spi::execute("SELECT u.h FROM dbkit.progress p, pg_catalog.unnest(p.statement_hashes) WITH ORDINALITY u(h, n) "
	             "WHERE p.tag = $1 ORDER BY u.n",
	             {spi::text(tag)});
	std::vector<std::string> ran;  // empty: a run 0.1.0 started, which kept no hashes
	for (uint64_t i = 0; i < spi::rows(); ++i)
		ran.push_back(spi::get_text(i, 1).value_or(""));
	const int64_t done = start - 1;  // statements 1..done ran
	if (ran.empty() && done > 0 && !file_hash.empty()) {
		// A run 0.1.0 stopped kept only the whole file's sha256: any edit at all is refused,
		// since which statements it touched cannot be told.
		spi::execute("SELECT p.hash FROM dbkit.progress p WHERE p.tag = $1", {spi::text(tag)});
		std::optional<std::string> recorded = spi::rows() ? spi::get_text(0, 1) : std::nullopt;
		if (recorded && *recorded != file_hash)
			throw Error(DBKIT_INTERRUPTED,
			            fmt::format("cannot resume {}: its run stopped under dbkit 0.1.0, which kept the sha256 of the "
			                        "file as it ran ({}...), not of each statement, and {} is not that file now "
			                        "({}...): dbkit cannot tell whether statements 1 to {}, which ran, are still the "
			                        "ones in it",
			                        tag, recorded->substr(0, 12), file, file_hash.substr(0, 12), done),
			            fmt::format("Restore {} as it ran (git history) and run {}, then put further changes in a "
			                        "new migration; or finish the migration by hand and record it with dbkit "
			                        "mark-applied. Nothing was run or recorded.",
			                        file, again));
	}
	std::optional<int64_t> changed;
	if (done > static_cast<int64_t>(stmts.size()))
		changed = static_cast<int64_t>(stmts.size()) + 1;
	else if (!ran.empty())
		for (int64_t i = 1; i <= done && !changed; ++i)
			if (i > static_cast<int64_t>(ran.size()) || ran[i - 1] != sha256_hex(stmts[i - 1].text))
				changed = i;
	if (!changed)
		return;
	std::string what =
	    *changed > static_cast<int64_t>(stmts.size())
	        ? fmt::format("{} now has {} statement{}, and its run stopped after statement {}", file, stmts.size(),
	                      stmts.size() == 1 ? "" : "s", done)
	        : fmt::format("statement {} of {} is not the one that ran before the run stopped at statement {}", *changed,
	                      file, start);
	throw Error(DBKIT_INTERRUPTED, fmt::format("cannot resume {}: {}", tag, what),
	            fmt::format("--resume runs what comes after the statements that already ran (1 to {}), so they must "
	                        "stay as they ran: restore them and change only statement {} onward, then run {}. Nothing "
	                        "was run or recorded.",
	                        done, start, again));
}

std::optional<RollbackLeft> stopped_rollback_left() {
	// to_jsonb: the columns are 0.2.0's; the module may meet a 0.1.0 table
	spi::execute(
	    "SELECT t.tag, (SELECT pg_catalog.count(*) FROM dbkit.migrations m WHERE m.id >= t.id), "
	    "(SELECT m.tag FROM dbkit.migrations m WHERE m.id < t.id ORDER BY m.id DESC LIMIT 1) "
	    "FROM dbkit.progress p JOIN dbkit.migrations t ON t.tag = pg_catalog.to_jsonb(p) ->> 'rollback_through' "
	    "WHERE pg_catalog.to_jsonb(p) ->> 'direction' = 'down'");
	if (spi::rows() == 0)
		return std::nullopt;
	return RollbackLeft{spi::get_int64(0, 2).value_or(0), *spi::get_text(0, 1), spi::get_text(0, 3).value_or("")};
}

std::optional<RunningProgress> running_progress(const std::string &tag, const char *direction) {
	spi::execute(
	    "SELECT statements, next_statement, "
	    "extract(epoch FROM pg_catalog.clock_timestamp() - started_at)::float8 * 1000, absorbed_drift, "
	    "carried_drift::text, EXISTS (SELECT 1 FROM dbkit.ddl_audit a WHERE a.id > coalesce(audit_mark, 0)), "
	    "coalesce(pg_catalog.to_jsonb(p) ->> 'reason', '') FROM dbkit.progress p "
	    "WHERE tag = $1 AND status = 'running' AND coalesce(pg_catalog.to_jsonb(p) ->> 'direction', 'up') = $2",
	    {spi::text(tag), spi::text(direction)});
	if (spi::rows() == 0)
		return std::nullopt;
	RunningProgress r;
	r.total = spi::get_int64(0, 1).value_or(0);
	r.next = spi::get_int64(0, 2).value_or(1);
	r.ms = std::stod(spi::get_text(0, 3).value_or("0"));
	r.absorbed_drift = spi::get_text(0, 4) == std::optional<std::string>("t") ||
	                   spi::get_text(0, 6) == std::optional<std::string>("t");
	r.carried = spi::get_text(0, 5);
	r.reason = spi::get_text(0, 7).value_or("");
	return r;
}

void refuse_if_interrupted(bool resume, const char *direction) {
	// to_jsonb: the column `direction` is 0.2.0's; the module may meet a 0.1.0 table
	spi::execute("SELECT tag, status, next_statement, statements, coalesce(error, ''), "
	             "coalesce(pg_catalog.to_jsonb(p) ->> 'direction', 'up') FROM dbkit.progress p");
	if (spi::rows() == 0)
		return;
	std::string tag = *spi::get_text(0, 1), status = *spi::get_text(0, 2), error = *spi::get_text(0, 5);
	std::string dir = *spi::get_text(0, 6);
	if (resume && dir == direction)
		return;
	int64_t next = spi::get_int64(0, 3).value_or(1), total = spi::get_int64(0, 4).value_or(0);
	std::string invalid = invalid_indexes();
	const bool down = dir == "down";
	std::string why =
	    status == "failed"
	        ? error
	        : fmt::format("the run was interrupted (client or server stopped); statement {} may have completed if it "
	                      "runs outside a transaction (CONCURRENTLY, VACUUM, ...){}",
	                      next,
	                      down ? ": check its effect before resuming"
	                           : ": --resume skips a concurrent index build whose index exists and is valid, and "
	                             "drops and rebuilds an invalid one; check the effect of any other such statement "
	                             "before resuming");
	std::string invalid_note =
	    invalid.empty() ? ""
	                    : "Invalid indexes left by a failed concurrent build: " + invalid +
	                          (down ? " (DROP INDEX CONCURRENTLY drops them). "
	                                : " (--resume drops and builds again those the migration builds; DROP INDEX "
	                                  "CONCURRENTLY any other). ");
	if (down) {
		// the stopped run's own bound, when it recorded one: its first --steps would
		// count from a history its earlier part already shortened
		std::optional<RollbackLeft> left = stopped_rollback_left();
		std::string again = left ? fmt::format("dbkit rollback --resume --steps {} --reason TEXT`{}", left->steps,
		                                       left->stays.empty() ? "" : " (or --to " + left->stays + ")")
		                         : std::string("dbkit rollback --resume --steps N --reason TEXT`");
		throw Error(DBKIT_INTERRUPTED,
		            fmt::format("the rollback of migration {} (non-transactional down file) stopped at statement {} "
		                        "of {}: {}",
		                        tag, next, total, why),
		            fmt::format("{}The migration is still recorded as applied. Fix the cause, then `{} runs the down "
		                        "file again from statement {}; nothing else (migrate included) runs until then. If you "
		                        "finished it by hand: dbkit forget {} --reason TEXT.",
		                        invalid_note, again, next, tag));
	}
	throw Error(DBKIT_INTERRUPTED,
	            fmt::format("migration {} (non-transactional) stopped at statement {} of {}: {}", tag, next, total, why),
	            fmt::format("{}Fix the cause, then `dbkit migrate --resume` runs it again from statement {}; if you "
	                        "finished it by hand, record it: dbkit mark-applied {} --reason \"...\"",
	                        invalid_note, next, tag));
}

}  // namespace dbkit
