#include "nontx_runner.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "output.hpp"
#include "report.hpp"

namespace dbkit::client {

std::optional<ServerError> run_at_top_level(Session &s, const Result &planned, const TopLevelRun &r) {
	const Result *plan = &planned;
	const std::string &tag = r.tag;
	ServerError err;
	std::minstd_rand jitter(std::random_device{}());
	const std::string step_sql = fmt::format("SELECT {}($1, $2::pg_catalog.int4, true)", s.fn("dbkit_nontx_step"));
	// before a statement: what to do, with its timeouts set for the session; after it:
	// its check ('done' also records the step, in the statement's transaction)
	const std::string before_sql = fmt::format(
	    "SELECT top_level, action, before_sql, note FROM {}($1, $2::pg_catalog.int4, $3, $4, $5::pg_catalog.int8, "
	    "$6::pg_catalog.int8)",
	    s.fn("dbkit_nontx_statement"));
	const std::string after_sql = fmt::format(
	    "SELECT top_level, action, before_sql, note FROM {}($1, $2::pg_catalog.int4, $3, $4)",
	    s.fn("dbkit_nontx_statement"));
	// The file's own BEGIN ... COMMIT blocks (the server says 'begin', 'in_block',
	// 'commit'): a block runs as one transaction, its progress row committed by its
	// COMMIT; a failure inside rolls the whole block back, and a lock failure
	// retries it from its BEGIN.
	int block_row = -1, block_retries = 0;  // the open block's BEGIN row; its lock retries so far
	for (int i = 0; i < plan->rows(); ++i) {
		std::string n = plan->get(i, 0), line = plan->get(i, 1), sql = plan->get(i, 2);
		int retries = std::stoi(plan->get(i, 5));
		long delay = std::stol(plan->get(i, 6));
		auto t0 = std::chrono::steady_clock::now();
		bool recorded = false;       // the statement's progress row committed with it (or needs none)
		bool restart_block = false;  // a lock failure inside a block: run it again from its BEGIN
		for (int attempt = 0;; ++attempt) {
			ServerError stmt_err;
			bool in_tx = false, retryable = true;
			std::string action;
			// What the statement needs: a transaction with its progress row, or top level
			// (then its effect is checked: an invalid index is dropped before it is built
			// again, a valid one on resume means the statement had completed). The server
			// chose the timeouts (run options, file markers); they hold for this statement.
			auto chk = s.conn->query(before_sql,
			                         {tag, n, sql, attempt == 0 && i == 0 && r.resume ? "resume" : "before",
			                          plan->get(i, 3), plan->get(i, 4)},
			                         stmt_err);
			bool ok = chk && chk->rows() == 1;
			if (ok) {
				action = chk->get(0, 1);
				if (!chk->null(0, 3))
					fmt::print(err_stream(), "dbkit: warning: {} {}, statement {}: {}\n", r.what, tag, n, chk->get(0, 3));
				if (action == "skip")
					break;  // recorded below
				if (!chk->null(0, 2))
					ok = s.conn->query(chk->get(0, 2), {}, stmt_err).has_value();
				if (ok && action == "run" && chk->get(0, 0) != "t") {
					ok = s.conn->query("BEGIN", {}, stmt_err).has_value();
					in_tx = ok;
				}
			}
			if (ok && action == "commit")  // the block's progress row commits with it, or neither does
				ok = s.conn->query(step_sql, {tag, n}, stmt_err).has_value();
			// ran at top level and committed: whatever fails after it, it is not run again here
			bool completed = false;
			if (ok) {
				// its notices name it, as a transactional migration's do (the server's context)
				s.conn->set_notice_where(fmt::format("{} {}, statement {} (line {})", r.what, tag, n, line));
				ok = s.conn->query(sql, {}, stmt_err).has_value();
				s.conn->set_notice_where("");
				completed = ok && !in_tx && action == "run";
			}
			if (ok && action != "begin" && action != "commit") {
				// 'done' for a statement of its own: checked, and its step recorded, in one call
				auto after = s.conn->query(after_sql, {tag, n, sql, action == "run" ? "done" : "after"}, stmt_err);
				ok = after && after->rows() == 1;
				if (ok && after->get(0, 1) == "invalid") {
					ok = retryable = false;
					stmt_err = ServerError{};
					stmt_err.sqlstate = "DK020";
					stmt_err.message = after->get(0, 3);
				}
			}
			if (ok && in_tx)  // the statement and its progress row commit together, or neither does
				ok = s.conn->query("COMMIT", {}, stmt_err).has_value();
			if (ok) {
				if (action == "begin")
					block_row = i;
				else if (action == "commit")
					block_row = -1, block_retries = 0;
				recorded = true;  // 'done' recorded a run's step; a block's commits with its COMMIT
				break;
			}
			if (action == "begin")
				block_row = i;  // its own BEGIN failed: the block starts here all the same
			const bool block_failed = block_row >= 0;
			if (in_tx || block_failed) {
				ServerError rb_err;
				s.conn->query("ROLLBACK", {}, rb_err);
			}
			if (completed && retryable) {  // its check or its step failed, not the statement
				retryable = false;
				stmt_err.message = "the statement ran, but its check or progress row failed: " + stmt_err.message;
			}
			bool lock = stmt_err.sqlstate == "55P03" || stmt_err.sqlstate == "40P01";
			int &tries = block_failed ? block_retries : attempt;
			if (retryable && lock && tries < retries) {
				long wait = delay * (1L << std::min(tries, 10)) + static_cast<long>(jitter() % (delay + 1));
				fmt::print(err_stream(), "dbkit: warning: {} {}, statement {}: {}; retry {} of {} in {} ms{}\n", r.what, tag,
				           n, stmt_err.message, tries + 1, retries, wait,
				           block_failed ? " (the whole BEGIN ... COMMIT block is rolled back and run again)" : "");
				std::this_thread::sleep_for(std::chrono::milliseconds(wait));
				if (block_failed) {
					++block_retries;
					restart_block = true;
					break;
				}
				continue;
			}
			// A failure inside a block: nothing of the block stays, so the run stops at its BEGIN.
			std::string from = block_failed ? plan->get(block_row, 0) : n;
			// no SQLSTATE when the connection itself was lost (the server never answered)
			std::string msg = fmt::format("{} {}, statement {} (line {}): {}{}", r.what, tag, n, line, stmt_err.message,
			                              stmt_err.sqlstate.empty() ? "" : " (SQLSTATE " + stmt_err.sqlstate + ")");
			ServerError rec_err;
			auto rec = s.conn->query(fmt::format("SELECT {}($1, $2::pg_catalog.int4, false, $3)", s.fn("dbkit_nontx_step")),
			                         {tag, from, msg}, rec_err);
			std::string invalid = rec && rec->rows() ? rec->get(0, 0) : "";
			stmt_err.message = msg;
			stmt_err.hint = fmt::format(
			    "{}{}The statements before it stay applied (they ran outside a transaction); dbkit records where it "
			    "stopped. Fix the cause, then `{}` continues from statement {}.",
			    block_failed ? fmt::format("The migration's own BEGIN ... COMMIT block (from statement {}) was rolled "
			                               "back as a whole. ",
			                               from)
			                 : "",
			    invalid.empty() ? "" : "Invalid index left behind: " + invalid + "; --resume drops it (DROP INDEX "
			                               "CONCURRENTLY " + invalid + ")" +
			                               (r.what == "migration" ? " and builds it again. " : ". "),
			    r.resume_command, from);
			return stmt_err;
		}
		if (restart_block) {
			i = block_row - 1;  // the loop's ++i lands on the BEGIN
			block_row = -1;
			continue;
		}
		double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
		if (!recorded && !s.conn->query(step_sql, {tag, n}, err))
			return err;
		if (r.verbose)
			fmt::print(out_stream(), "           statement {} (line {}) {:>9}\n", n, line, human_ms(ms));
	}
	return std::nullopt;
}

}  // namespace dbkit::client
