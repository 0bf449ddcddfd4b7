// dbkit_apply(folder jsonb, options jsonb): apply the pending migrations of a
// folder inside the caller's transaction. The run sits in one subtransaction
// so that a lock timeout or deadlock can be retried as a whole; a
// non-transactional migration stops the run and is handed to the client
// (dbkit_nontx_*), which runs its statements at top level.
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>

#include "core/json.hpp"
#include "core/markers.hpp"
#include "errcodes.hpp"
#include "execute.hpp"
#include "db_plan.hpp"
#include "folder_arg.hpp"
#include "history.hpp"
#include "locks.hpp"
#include "progress.hpp"
#include "run_state.hpp"
#include "reference_store.hpp"
#include "spi.hpp"
#include "sql_version.hpp"
#include "srf.hpp"
#include "subxact.hpp"

using namespace dbkit;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
	return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

bool is_lock_failure(const PgError &e) {
	int code = e.edata()->sqlerrcode;
	return code == ERRCODE_LOCK_NOT_AVAILABLE || code == ERRCODE_T_R_DEADLOCK_DETECTED;
}

std::vector<std::string> tables_of(const std::vector<PlannedStatement> &stmts) {
	std::vector<std::string> out;
	for (const auto &s : stmts)
		for (const auto &r : s.relations)
			if (std::find(out.begin(), out.end(), r) == out.end())
				out.push_back(r);
	return out;
}

using Statements = std::vector<std::vector<PlannedStatement>>;  // per folder position

// Parses every migration that may run before running anything: a syntax error
// in the last pending migration costs nothing.
Statements parse_pending(const core::Plan &plan, const std::vector<core::Migration> &migs) {
	Statements stmts(migs.size());
	for (const auto &it : plan.items)
		if (plan.runs(it))
			stmts[*it.pos] = plan_statements(migs[*it.pos]);
	return stmts;
}

// Whether the run writes anything: a migration to apply, adopt or rename, or an
// applied one missing from drizzle's table.
// Whether this call writes anything: a history row, drizzle's table, a new
// reference. A call whose first pending migration is non-transactional applies
// nothing (the client runs that one next, statement by statement), so it opens no
// event and takes no snapshot: those cost O(schema) per migration in a folder of
// CONCURRENTLY files (bench/nontx_bench.sh).
bool run_writes(const core::Plan &plan, const LoadedFolder &lf, const Statements &stmts,
                const std::unordered_set<std::string> *drizzle_hashes) {
	bool first_pending_seen = false;
	for (const auto &it : plan.items) {
		if (it.state == core::State::Applied) {
			if (drizzle_hashes && !drizzle_hashes->count(it.applied_hash))
				return true;
			continue;
		}
		if (!it.pos || !plan.runs(it) || (it.state != core::State::Pending && it.state != core::State::OutOfOrder))
			return true;  // adopted, renamed, ...: recorded whatever comes first
		if (first_pending_seen)
			continue;  // after the first pending one, which does not run here
		first_pending_seen = true;
		if (!is_non_transactional(lf.folder.migrations[*it.pos], stmts[*it.pos]))
			return true;
	}
	return false;
}

// A stopped non-transactional run resumes statement by statement, after what ran. A file
// edited so that it no longer runs that way (its CONCURRENTLY or dbkit:no-transaction taken
// out) would run whole, in a transaction: its first statements again.
void refuse_resume_in_transaction(const core::Plan &plan, const LoadedFolder &lf, const Statements &stmts) {
	spi::execute("SELECT tag, next_statement FROM dbkit.progress p "
	             "WHERE coalesce(pg_catalog.to_jsonb(p) ->> 'direction', 'up') = 'up'");
	if (spi::rows() == 0)
		return;
	std::string tag = *spi::get_text(0, 1);
	int64_t next = spi::get_int64(0, 2).value_or(1);
	for (const auto &it : plan.items) {
		if (it.tag != tag || !it.pos || (it.state != core::State::Pending && it.state != core::State::OutOfOrder))
			continue;
		const core::Migration &m = lf.folder.migrations[*it.pos];
		if (next <= 1 || is_non_transactional(m, stmts[*it.pos]))
			return;
		throw Error(DBKIT_INTERRUPTED,
		            fmt::format("cannot resume {}: its run stopped at statement {} after running the ones before it "
		                        "outside a transaction, and {} no longer runs that way (no CONCURRENTLY or "
		                        "dbkit:no-transaction now): it would run whole, those statements again",
		                        tag, next, m.file),
		            fmt::format("Restore {} as it ran and change only statement {} onward, then run dbkit migrate "
		                        "--resume. If the schema already is what the file leaves, record it instead: dbkit "
		                        "mark-applied {} --reason TEXT. Nothing was run or recorded.",
		                        m.file, next, tag));
	}
}

struct DriftBeforeRun {
	std::optional<std::string> carried;  // drift the run carries forward (reference_store.hpp)
	bool absorbed = false;               // DDL by others while a run was stopped half-way (note_ddl_during_run)
};

// The drift present before a run that writes, reported as a warning. Resuming a
// migration that stopped half-way: its own committed statements are in the live
// schema, so drift cannot be told from the schema, only from the audit (DDL by
// others since the last reference); that is reported, and the drift found when
// the stopped run started was carried by it (dbkit.progress).
DriftBeforeRun drift_before_writing(bool resume) {
	DriftBeforeRun d;
	bool stopped_half_way = false;
	if (resume) {
		spi::execute("SELECT 1 FROM dbkit.progress");
		stopped_half_way = spi::rows() > 0;
	}
	if (stopped_half_way)
		d.absorbed = audited_ddl_since_last_reference();
	else
		d.carried = drift_before_run();
	if (d.carried)
		warn({core::Severity::Warning, "drift.carried", "",
		      "the schema had changed outside the migrations since the last run (see dbkit drift); those "
		      "changes are not taken into the reference this run records: dbkit drift keeps reporting them",
		      kHintDriftCarried});
	return d;  // DDL by others meanwhile (absorbed): warned once the reference is stored
}

// One pass over the plan. The caller runs each attempt in a subtransaction and
// retries it as a whole after a lock failure; what an attempt did is rebuilt
// from scratch each time (begin()), what spans attempts (retries, warnings
// already given) is kept.
class ApplyRun {
public:
	ApplyRun(const LoadedFolder &lf, const core::Plan &plan, const Statements &stmts, const Options &opts,
	         DrizzleTable *dz, const std::unordered_set<std::string> &drizzle_hashes, HistoryWriter *history)
	    : lf_(lf), plan_(plan), stmts_(stmts), opts_(opts), dz_(dz), drizzle_hashes_(drizzle_hashes),
	      history_(history) {}

	void begin() {
		applied = adopted = 0;
		last_tag.clear();
		rows.clear();
		stopped_ = false;
		current = nullptr;
		tables.clear();
	}
	void run_all() {
		for (const auto &it : plan_.items)
			if (it.pos)
				step(it);
	}
	void count_retry() {
		if (current)
			++retried_[current->tag];
	}

	int applied = 0, adopted = 0;
	std::string last_tag;
	std::vector<std::vector<Cell>> rows;
	const core::Migration *current = nullptr;  // running now: a failure is its failure
	std::vector<std::string> tables;           // the tables current's statements touch

private:
	void step(const core::PlanItem &it) {
		const core::Migration &m = lf_.folder.migrations[*it.pos];
		const std::string &hash = lf_.hashes[*it.pos];
		if (it.state == core::State::Applied) {
			if (dz_ && !drizzle_hashes_.count(hash))
				dz_->insert(hash, m.when, m.tag);  // keep drizzle's migrator from re-running it
			rows.push_back({int32_t(m.idx), m.tag, std::string("already_applied"), Cell(), Cell(), hash, Cell()});
		} else if (it.state == core::State::Renamed) {
			history_->rename(it.renamed_from, m.tag, m.idx);
			if (dz_)
				dz_->rename(hash, m.when, it.renamed_from, m.tag);
			rows.push_back({int32_t(m.idx), m.tag, std::string("renamed"), Cell(), Cell(), hash, it.note});
		} else if (it.state == core::State::Adopt) {
			history_->record({m.tag, m.idx, hash, m.when, 0.0, 0, "adopted", lf_.down_hashes[*it.pos]});
			++adopted;
			last_tag = m.tag;
			rows.push_back({int32_t(m.idx), m.tag, std::string("adopted"), Cell(), Cell(), hash, it.note});
		} else if (plan_.runs(it)) {
			run_migration(it, m, hash);
		}
	}

	// A pending migration: run, or listed as what comes after the run stopped.
	void run_migration(const core::PlanItem &it, const core::Migration &m, const std::string &hash) {
		const auto &ms = stmts_[*it.pos];
		int n = static_cast<int>(ms.size());
		if (!stopped_ && opts_.limit > 0 && applied >= opts_.limit)
			stopped_ = true;
		if (!stopped_ && is_non_transactional(m, ms)) {
			stopped_ = true;
			rows.push_back({int32_t(m.idx), m.tag, std::string("non_transactional"), int32_t(n), Cell(), hash,
			                std::string("runs statement by statement outside a transaction: dbkit "
			                            "migrate does it next (dbkit_nontx_start)")});
			return;
		}
		if (stopped_) {
			rows.push_back({int32_t(m.idx), m.tag, std::string("pending"), int32_t(n), Cell(), hash, Cell()});
			return;
		}
		current = &m;
		core::Markers mk = core::read_markers(m.sql);
		set_local_timeouts(mk.lock_timeout_ms.value_or(opts_.lock_timeout_ms),
		                   mk.statement_timeout_ms.value_or(opts_.statement_timeout_ms));
		tables = tables_of(ms);
		warn_lock_holders_once(m);
		auto t0 = std::chrono::steady_clock::now();
		run_statements(m, ms);
		refuse_invalid_index(m, ms);
		double ms_total = ms_since(t0);
		history_->record({m.tag, m.idx, hash, m.when, ms_total, n, "applied", lf_.down_hashes[*it.pos]});
		if (dz_)
			dz_->insert(hash, m.when, m.tag);
		++applied;
		last_tag = m.tag;
		std::string note = it.state == core::State::OutOfOrder ? "out of order: " + it.note : "";
		if (auto r = retried_.find(m.tag); r != retried_.end())
			note += fmt::format("{}hit a lock timeout; the run was retried {} time{}", note.empty() ? "" : "; ",
			                    r->second, r->second == 1 ? "" : "s");
		rows.push_back(
		    {int32_t(m.idx), m.tag, std::string("applied"), int32_t(n), ms_total, hash, note.empty() ? Cell() : Cell(note)});
		current = nullptr;
	}

	void warn_lock_holders_once(const core::Migration &m) {
		if (!warned_holders_.insert(m.tag).second)
			return;
		if (std::string holders = lock_holders(tables); !holders.empty())
			warn({core::Severity::Warning, "lock.holders", m.tag,
			      fmt::format("migration {} needs locks on tables that other sessions hold:\n{}", m.tag, holders),
			      "Long or idle-in-transaction sessions block the migration, and every query queued behind it."});
	}

	static void refuse_invalid_index(const core::Migration &m, const std::vector<PlannedStatement> &ms) {
		auto [bad, index] = invalid_built_index(ms);
		if (bad <= 0)
			return;
		throw Error(DBKIT_INVALID_INDEX,
		            fmt::format("migration {}, statement {}: index {} is invalid, so the migration is not recorded",
		                        m.file, bad, index),
		            fmt::format("CREATE INDEX ... IF NOT EXISTS skipped an existing invalid index (left by a failed "
		                        "concurrent build). Drop it (DROP INDEX CONCURRENTLY {}) and run dbkit migrate again. "
		                        "Nothing from this run was applied or recorded.",
		                        index));
	}

	const LoadedFolder &lf_;
	const core::Plan &plan_;
	const Statements &stmts_;
	const Options &opts_;
	DrizzleTable *dz_;
	const std::unordered_set<std::string> &drizzle_hashes_;
	HistoryWriter *history_;
	bool stopped_ = false;  // a limit was reached or a non-transactional migration is next
	std::map<std::string, int> retried_;  // migration that hit the lock -> times
	std::unordered_set<std::string> warned_holders_;
};

// A statement that reached dbkit's own functions, whose schema (public unless CREATE EXTENSION
// named one) a migration may act on as a whole: tambo-ai/tambo's 0015 grants EXECUTE on every
// routine of public, which fails on the procedure dbkit_deploy_lock. Said, with what to do; the
// file's own fix ("Fix ... and run dbkit migrate again") alone would send the user the wrong way.
void explain_dbkit_objects(const PgError &e) {
	ErrorData *d = e.edata();
	if (!d->message || std::string_view(d->message).rfind("migration ", 0) != 0)
		return;  // not a migration's statement (statement_error's message): dbkit's own bookkeeping
	std::string schema = extension_schema();
	std::string seen = std::string(d->message) + "\n" + (d->context ? d->context : "");
	if (seen.find(schema + ".dbkit_") == std::string::npos)
		return;
	std::string hint = fmt::format(
	    "The statement reached dbkit's own functions, which live in schema {} (where CREATE EXTENSION dbkit put "
	    "them): a migration that acts on every function of {} (a loop over pg_proc, GRANT ... ON ALL FUNCTIONS IN "
	    "SCHEMA {}) acts on dbkit's too. Leave the extension's members out of it (AND NOT EXISTS (SELECT 1 FROM "
	    "pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')), or, for a database without dbkit history yet, "
	    "install dbkit in a schema of its own (DROP EXTENSION dbkit; CREATE SCHEMA dbkit_api; CREATE EXTENSION dbkit "
	    "SCHEMA dbkit_api): the client finds it there.\n{}",
	    schema, schema, schema, d->hint ? d->hint : "");
	d->hint = PgCall([&]() noexcept { return pstrdup(hint.c_str()); });
}

// The failure that ends the run, made to say what it means: after the last
// retry, who holds the locks; with --transaction=each, that earlier migrations
// of this deploy are committed.
void explain_final_failure(const PgError &e, int attempt, const Options &opts, const std::vector<std::string> &tables) {
	explain_dbkit_objects(e);
	if (is_lock_failure(e)) {
		std::string holders = lock_holders(tables);
		std::string detail = fmt::format("gave up after {} retries", attempt) +
		                     (holders.empty() ? "" : "; sessions holding its locks:\n" + holders);
		e.edata()->detail = PgCall([&]() noexcept { return pstrdup(detail.c_str()); });
	}
	if (opts.limit > 0 && e.edata()->hint) {
		std::string h = e.edata()->hint;
		const std::string nothing = "Nothing from this run was applied or recorded.";
		if (size_t at = h.find(nothing); at != std::string::npos)
			h.replace(at, nothing.size(),
			          "This migration was not applied; the ones before it in this deploy are committed "
			          "(--transaction=each).");
		e.edata()->hint = PgCall([&]() noexcept { return pstrdup(h.c_str()); });
	}
}

// Backoff with jitter before the next attempt, with a warning naming the lock's holders.
void wait_before_retry(const ApplyRun &run, const std::string &reason, int attempt, const Options &opts,
                       std::minstd_rand &jitter) {
	std::string what = run.current ? "migration " + run.current->tag : "recording the history";
	int64_t delay = opts.retry_delay_ms * (int64_t(1) << std::min(attempt, 10)) +
	                static_cast<int64_t>(jitter() % static_cast<unsigned>(opts.retry_delay_ms + 1));
	std::string holders = lock_holders(run.tables);
	warn({core::Severity::Warning, "lock.retry", run.current ? run.current->tag : std::string(),
	      fmt::format("{}: {}; everything this run did is rolled back and it is retried from "
	                  "its first migration, retry {} of {} in {} ms{}",
	                  what, reason, attempt + 1, opts.lock_retries, delay, holders.empty() ? "" : "\n" + holders),
	      "Raise --lock-timeout or end the blocking sessions."});
	interruptible_sleep(delay);
}

}  // namespace
DBKIT_FUNCTION(dbkit_apply) {
	if (PG_ARGISNULL(0))
		throw Error(DBKIT_FOLDER_INVALID, "the folder argument is null");
	Jsonb *folder = jsonb_arg(fcinfo, 0);
	Jsonb *options = jsonb_arg(fcinfo, 1);
	if (IsolationUsesXactSnapshot())
		throw Error(ERRCODE_ACTIVE_SQL_TRANSACTION, "dbkit_apply must run in a READ COMMITTED transaction",
		            "Under REPEATABLE READ or SERIALIZABLE it could not see a concurrent deploy's history. Run it "
		            "on its own (autocommit) or after BEGIN ISOLATION LEVEL READ COMMITTED.");
	Options opts = read_options(options);
	ResultRows out(fcinfo);
	LoadedFolder lf = load_folder_arg(folder);

	RunScope run_scope;  // the DDL audit ignores what dbkit runs
	spi::connect();
	require_deployer("dbkit_apply");
	lock_history(opts.lock_wait_ms);  // before reading history: a concurrent deploy waits here
	refuse_if_interrupted(opts.resume);  // a non-transactional migration stopped half-way blocks the rest
	std::optional<DrizzleTable> dz;
	if (opts.drizzle_sync)
		dz.emplace(opts);
	std::vector<core::DrizzleRow> drizzle_rows;
	core::Plan plan = plan_against_database(lf, opts, dz ? &*dz : nullptr, &drizzle_rows);
	if (!plan.refusals.empty())
		refuse_plan(plan.refusals);
	for (const auto &n : plan.notices)
		warn(n);
	Statements stmts = parse_pending(plan, lf.folder.migrations);
	if (opts.resume)
		refuse_resume_in_transaction(plan, lf, stmts);

	std::unordered_set<std::string> drizzle_hashes;
	for (const auto &r : drizzle_rows)
		drizzle_hashes.insert(r.hash);
	std::optional<HistoryWriter> history;
	DriftBeforeRun drift;
	if (run_writes(plan, lf, stmts, dz ? &drizzle_hashes : nullptr)) {
		drift = drift_before_writing(opts.resume);
		history.emplace("apply");
		if (dz)
			dz->ensure(lf.folder.layout == core::Folder::Layout::Folders);
	}

	// The whole run sits in one subtransaction. On a lock timeout or deadlock it
	// is rolled back, which releases every lock its statements took, and retried
	// from its first migration after a backoff: the tables it touched are free
	// while we wait (dbkit's deploy lock stays held), and there is no
	// per-migration savepoint to pay for (its commit cost grows with the
	// number of locks already held, so O(N^2) over a long run).
	ApplyRun run(lf, plan, stmts, opts, dz ? &*dz : nullptr, drizzle_hashes, history ? &*history : nullptr);
	int retries_total = 0;
	std::minstd_rand jitter(static_cast<unsigned>(MyProcPid) ^ static_cast<unsigned>(GetCurrentTimestamp()));
	for (int attempt = 0;; ++attempt) {
		run.begin();
		std::string retry_reason;  // why the attempt failed, when it is retried
		Subxact sx;
		try {
			run.run_all();
			sx.commit();
			break;
		} catch (const PgError &e) {
			sx.rollback();  // every lock the run's statements took is released here
			if (!run.current)
				run.tables.clear();  // the failure was in dbkit's own bookkeeping, between migrations
			if (!is_lock_failure(e) || attempt >= opts.lock_retries) {
				explain_final_failure(e, attempt, opts, run.tables);
				throw;
			}
			retry_reason = e.edata()->message ? e.edata()->message : "lock not available";
		}
		// Outside the handler: the warning, the catalog query and the sleep can
		// all raise (a cancel while we wait).
		++retries_total;
		run.count_retry();
		wait_before_retry(run, retry_reason, attempt, opts, jitter);
	}
	for (auto &r : run.rows)
		out.add(std::move(r));
	if (history) {
		std::string backup;  // dbkit migrate --backup: the dump taken before this run
		if (!opts.backup_file.empty())
			backup = fmt::format(", \"backup\": {{\"file\": {}, \"bytes\": {}}}", core::json_quote(opts.backup_file),
			                     opts.backup_bytes);
		history->set_detail(fmt::format(
		    "{{\"applied\": {}, \"adopted\": {}, \"lock_retries\": {}, \"absorbed_drift\": {}, \"carried_drift\": {}{}}}",
		    run.applied, run.adopted, retries_total, drift.absorbed ? "true" : "false",
		    drift.carried ? "true" : "false", backup));
		// DDL by others while a non-transactional migration was stopped half-way stays drift while it
		// touched none of the objects dbkit's statements did (by_dbkit rows); else the full read takes it in
		// Re-read after the commit by a worker when nothing else is pending (the deploy
		// holds its locks for less time); else now, as before
		const Stored how = !drift.carried && !drift.absorbed && defer_reference(history->run_id(), opts)
		                       ? Stored::incrementally
		                       : store_reference(history->run_id(), run.last_tag, &opts, drift.carried);
		if (drift.absorbed)
			note_ddl_during_run(history->run_id(), how, /*stopped_half_way=*/true);
	}
	spi::finish();
	return out.done();
}
