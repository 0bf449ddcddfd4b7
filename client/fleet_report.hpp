#pragma once
// What a fleet run prints: the progress on stderr while it runs (one live line
// on a terminal, a plain line per finished target otherwise), then the summary
// on stdout: a table of the targets, each failure in full and the totals, or
// one JSON document with --json. Targets appear only as Target::shown (passwords
// masked).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet_result.hpp"
#include "fleet_targets.hpp"

namespace dbkit::client::fleet {

struct RunInfo {
	std::string command;  // migrate, status, drift, check
	int parallel = 4;
	int canary = 0;
	bool fail_fast = false;
};

struct Progress {
	int total = 0, done = 0, running = 0;
	int failed = 0;  // failed or unreachable
	int drift = 0, invalid = 0, skipped = 0;
};

// Live progress only on a terminal, and not under CI (CI set to anything but
// "false" or "0") or TERM=dumb.
bool live_progress(bool stderr_is_terminal, const char *ci, const char *term);

// "fleet: 37/200 done, 2 failed, 8 running" (and ", 3 drift" ... when there are).
std::string progress_line(const Progress &p);

// One finished target, for a log without a terminal:
// "fleet: [3/7] #3 dbname=app3: applied 2 migrations (120 ms)".
std::string finished_line(const Progress &p, size_t index, const Target &t, const TargetResult &r);

// The table, the failures in full, the totals line.
std::string summary_text(const RunInfo &run, const std::vector<Target> &targets,
                         const std::vector<TargetResult> &results, const Totals &totals);

// {"ok", "command", "exit_code", "parallel", "canary", "fail_fast", "targets": [...], "totals": {...}}
nlohmann::json summary_json(const RunInfo &run, const std::vector<Target> &targets,
                            const std::vector<TargetResult> &results, const Totals &totals);

}  // namespace dbkit::client::fleet
