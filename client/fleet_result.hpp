#pragma once
// A fleet run's results: each target's outcome, read from the exit code and the
// --json document of the command that ran against it, and the totals, whose exit
// code is the worst of the targets' in the order exit_rank() defines.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dbkit::client::fleet {

enum class Outcome {
	Applied,      // migrate applied something
	UpToDate,     // migrate: nothing to apply; status: nothing pending
	Pending,      // status (and migrate --dry-run): migrations to apply
	Clean,        // drift: none
	Drift,        // drift: found (exit 4)
	Valid,        // check: no error
	Invalid,      // check: errors (exit 5)
	Failed,       // the command failed or refused (exit 1; 3 when the extension is missing; 2)
	Unreachable,  // cannot connect (exit 3)
	Skipped,      // never ran: a canary failed, or --fail-fast after a failure
};
const std::vector<Outcome> &all_outcomes();
const char *outcome_id(Outcome o);  // for JSON: "up_to_date"
std::string outcome_text(Outcome o);  // for people: "up to date"

struct TargetResult {
	Outcome outcome = Outcome::Skipped;
	int exit_code = -1;                   // the command's; -1: it did not run
	std::optional<int> applied, pending;  // migrations; nullopt: not known
	double duration_ms = 0;
	std::string error, sqlstate, hint;  // why it failed or could not connect
	std::string note;                   // "2 modified", "3 differences", "dry run", ...
	std::string skipped_because;        // "canary failed", "fail-fast"
	std::string backup;                 // the dump --backup wrote
	std::string log;                    // the --log-dir file
};

// What exit code `exit_code` and the --json document `doc` of `command`
// (migrate, status, drift, check) say about one target.
TargetResult classify(const std::string &command, int exit_code, const nlohmann::json &doc);

// Migrations `dbkit status --json` lists as to do (pending, out of order,
// adoptable); nullopt for a document without the folder's rows.
std::optional<int> pending_in_status(const nlohmann::json &doc);

// The run's exit code is the worst target's, from best to worst:
//   ok 0 < drift 4 < validation 5 < failed 1 < connection 3 < usage 2
// (docs/design.md "Fleet runs" says why). Unknown codes rank as failed.
int exit_rank(int code);
int worse_exit(int a, int b);

struct Totals {
	int targets = 0;
	std::map<Outcome, int> outcomes;  // every outcome, zeros included
	int applied = 0;                  // migrations applied, over every target
	int pending = 0;                  // migrations pending, over the targets where that is known
	int exit_code = 0;                // the worst target's
	double duration_ms = 0;           // the whole run, wall clock
};
Totals totals(const std::vector<TargetResult> &results, double duration_ms);

// A failure counts for --canary and --fail-fast: any exit code but 0.
inline bool is_failure(const TargetResult &r) { return r.exit_code > 0; }

}  // namespace dbkit::client::fleet
