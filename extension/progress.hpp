#pragma once
// Non-transactional migrations run statement by statement at top level; their
// progress is committed as it happens in dbkit.progress, so a run that failed
// or was interrupted half-way is known exactly.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dbkit {

// Raises DK009 when a non-transactional migration (or the non-transactional
// down file of a rollback) stopped half-way, unless `resume` and the stopped
// run goes the same `direction` ("up": migrate, "down": rollback): nothing
// else may run until it is resumed or resolved.
void refuse_if_interrupted(bool resume, const char *direction = "up");

// What a stopped rollback (a non-transactional down file that failed or was
// interrupted) was still asked to roll back, newest first: `steps` migrations,
// the oldest `through`; `stays` is the migration newest after it (empty: none).
// nullopt when no rollback stopped, or it recorded no such bound (a caller of
// dbkit_rollback_nontx_start from SQL that gave no option "through").
struct RollbackLeft {
	int64_t steps = 0;
	std::string through, stays;
};
std::optional<RollbackLeft> stopped_rollback_left();

// The running non-transactional run of `tag` going `direction` ("up": a migration,
// "down": a rollback's down file), as dbkit.progress records it; nullopt if none.
struct RunningProgress {
	int64_t total = 0, next = 1;  // statements, and the first one not yet done
	double ms = 0;                // since the run started
	bool absorbed_drift = false;  // DDL by others since the start (the audit, after its mark), or recorded so
	std::optional<std::string> carried;  // drift found at the start
	std::string reason;                  // a rollback's --reason
};
std::optional<RunningProgress> running_progress(const std::string &tag, const char *direction);

// The hash of each statement of a non-transactional run, as a text[] literal for
// dbkit.progress.statement_hashes; and, on --resume, the refusal (DK009) when the
// statements before `start` are not those that ran: the run continues after them, so
// an edited or removed one would be recorded as done without ever running. `file`
// names the migration (or down file) in the message; `again` is the resume command.
struct PlannedStatement;
std::string statement_hashes(const std::vector<PlannedStatement> &stmts);
// `file_hash` (the file's sha256; empty: not checked) is compared with the row's when the row
// has no statement hashes (a run 0.1.0 stopped).
void check_resumed_statements(const std::string &tag, const std::string &file, const std::string &file_hash,
                              const std::vector<PlannedStatement> &stmts, int64_t start, const std::string &again);

// Session-level hold on dbkit's deploy lock across the statements' transactions.
void hold_session_lock(int64_t wait_ms = 600000);
void release_session_lock();

// Indexes left invalid (a failed CREATE INDEX CONCURRENTLY), "a, b"; empty if none.
std::string invalid_indexes();

// The state of index `name` on table `table` (quoted, qualified as written in the
// migration, resolved under the current search_path): "absent", "valid",
// "invalid", or "other table" (the name is an index of another table in that
// schema); `qualified` is its schema-qualified, quoted name when it exists.
struct IndexState {
	std::string state, qualified;
};
IndexState index_state(const std::string &table, const std::string &name);

// The first index that one of `stmts` builds (CREATE INDEX with a name, IF NOT
// EXISTS included) and that is invalid now: a migration is never recorded with
// one. Returns the statement's number (0 if none) and the index.
struct PlannedStatement;
std::pair<int, std::string> invalid_built_index(const std::vector<PlannedStatement> &stmts);

}  // namespace dbkit
