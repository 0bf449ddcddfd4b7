#pragma once
// Reading the jsonb arguments of dbkit_apply & co: the folder the client
// shipped and the options. Strings are views into the detoasted jsonb.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/folder.hpp"
#include "guard.hpp"

namespace dbkit {

// folder: {"journal": "<meta/_journal.json text>", "files": {"<relative path>": "<content>", ...}}
// The journal may also travel as files["meta/_journal.json"].
core::FolderInput read_folder(Jsonb *folder);

struct Options {
	bool out_of_order = false;
	int64_t limit = 0;                 // apply at most this many migrations (--transaction=each: 1)
	int64_t lock_timeout_ms = 5000;    // per statement; 0: wait forever
	int64_t statement_timeout_ms = 0;  // per statement; 0: none
	int lock_retries = 5;              // retries of a migration after a lock timeout or deadlock
	int64_t retry_delay_ms = 500;      // first backoff; doubles each retry, plus jitter
	int64_t lock_wait_ms = 600000;     // wait for dbkit's deploy lock (another deploy); 0: do not wait
	bool resume = false;               // continue a non-transactional migration that stopped half-way
	// dbkit_nontx_finish also names the next migration when it is non-transactional too,
	// so the client starts it without a dbkit_apply call in between
	bool chain_non_transactional = false;
	bool drizzle_sync = true;
	std::string drizzle_schema = "drizzle";
	std::string drizzle_table = "__drizzle_migrations";
	std::string backup_file;  // dbkit migrate --backup: the dump taken before the run (for dbkit.events)
	int64_t backup_bytes = -1;
};
// dbkit_rollback's own options; read_options accepts them only when given one.
struct RollbackOptions {
	int64_t steps = 0;   // roll back the newest N applied migrations
	std::string to;      // or everything applied after this tag (it stays applied)
	std::string reason;  // required, recorded in dbkit.events
	bool dry_run = false;  // list what would run, change nothing
	std::string through;   // the oldest migration of the whole run (the client's plan), kept for --resume
};
// `also`: further keys the caller reads itself (the schema engine's), skipped here.
Options read_options(Jsonb *options, RollbackOptions *rollback = nullptr,
                     const std::vector<std::string_view> &also = {});  // nullptr: defaults

// Text argument `n` of a SQL-callable function; empty when NULL.
std::string text_arg(FunctionCallInfo fcinfo, int n);
// Argument n as jsonb, detoasted through PgCall; nullptr when it is NULL.
Jsonb *jsonb_arg(FunctionCallInfo fcinfo, int n);

}  // namespace dbkit
