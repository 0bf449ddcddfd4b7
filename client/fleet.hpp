#pragma once
// dbkit migrate|status|drift|check --targets FILE: one folder, many databases.
// A bounded pool of threads runs the command's own code against each target on
// a libpq connection of its own, its output captured (client/output.hpp) and its
// --json document kept (report.hpp), so nothing interleaves; the run then prints
// one report (client/fleet_report.hpp) and exits with the worst target's code.
#include <functional>
#include <string>

#include "fleet_targets.hpp"
#include "session.hpp"

namespace CLI {
class App;
}

namespace dbkit::client::fleet {

struct FleetOptions {
	std::string targets;  // the file, "-" for stdin; empty: not a fleet run
	int parallel = 4;
	int canary = 0;
	bool fail_fast = false;
	std::string log_dir;
	int connect_timeout = -1;  // --connect-timeout SECONDS for targets that set no connect_timeout; -1: not given
};

// Adds --targets, --parallel, --canary, --fail-fast, --log-dir and --connect-timeout to `sub`.
void add_fleet_options(CLI::App *sub, FleetOptions &o);

// True when a fleet option was given on `sub` (then --targets must be too).
bool fleet_options_given(CLI::App *sub);

// The command against one target: `c` is the run's Common with the target's
// connection string in c.url and c.json set; `index` is the target's, 0-based.
using TargetCommand = std::function<int(const Common &c, const Target &t, size_t index)>;

// Runs `run` over every target of o.targets and prints the report. `command` is
// migrate, status, drift or check. Returns the run's exit code.
int run_fleet(const std::string &command, const Common &c, const FleetOptions &o, const TargetCommand &run);

}  // namespace dbkit::client::fleet
