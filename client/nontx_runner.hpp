#pragma once
// The statements of a non-transactional migration, or of a rollback's
// non-transactional down file, run here at top level one by one, as the
// server handed them out (dbkit_nontx_start, dbkit_rollback_nontx_start): each
// checked with dbkit_nontx_statement and recorded with dbkit_nontx_step, so
// progress is durable after every statement and a stop resumes exactly.
#include <optional>
#include <string>

#include "connection.hpp"
#include "session.hpp"

namespace dbkit::client {

struct TopLevelRun {
	std::string tag;
	std::string what;            // "migration", "rollback of": names the run in messages
	std::string resume_command;  // what continues a run that stopped
	bool resume = false;         // the first statement may have completed before an interruption
	bool verbose = false;        // a line per statement
};

// `plan`: rows (statement, line, sql, lock_timeout_ms, statement_timeout_ms,
// lock_retries, retry_delay_ms). Returns the error that stopped the run (it is
// recorded in dbkit.progress), or nothing when every statement ran.
std::optional<ServerError> run_at_top_level(Session &s, const Result &plan, const TopLevelRun &r);

}  // namespace dbkit::client
