// The fleet runner: targets, a bounded pool of threads, canary and fail-fast,
// progress on stderr, one report at the end (see fleet.hpp).
#include "fleet.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <system_error>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "fleet_report.hpp"
#include "folder_reader.hpp"
#include "output.hpp"
#include "report.hpp"

namespace fs = std::filesystem;

namespace dbkit::client::fleet {

void add_fleet_options(CLI::App *sub, FleetOptions &o) {
	sub->add_option("--targets", o.targets,
	                "Run against every database listed in FILE: one connection string or service name a line "
	                "(- reads stdin; blank lines and # comments skipped); prints one report");
	sub->add_option("--parallel", o.parallel, "With --targets: at most N targets at once (default 4)")
	    ->check(CLI::Range(1, 1024));
	sub->add_option("--canary", o.canary,
	                "With --targets: run the first K targets first; if one fails, skip the others")
	    ->check(CLI::NonNegativeNumber);
	sub->add_flag("--fail-fast", o.fail_fast, "With --targets: start no other target once one has failed");
	sub->add_option("--log-dir", o.log_dir,
	                "With --targets: write each target's own output (stderr and its JSON document) to DIR/NNN-NAME.log");
	sub->add_option("--connect-timeout", o.connect_timeout,
	                fmt::format("With --targets: give up on a target that has not answered after SECONDS (default "
	                            "{}, or PGCONNECT_TIMEOUT; 0: wait forever); a target's own connect_timeout wins",
	                            kDefaultConnectTimeoutSeconds))
	    ->check(CLI::NonNegativeNumber);
}

bool fleet_options_given(CLI::App *sub) {
	for (const char *name : {"--parallel", "--canary", "--fail-fast", "--log-dir", "--connect-timeout"})
		if (sub->count(name) > 0)
			return true;
	return false;
}

namespace {

// One command run on this thread with its text and its JSON document captured.
struct Captured {
	int rc = kFailed;
	nlohmann::json doc;
	std::string out, err;
};

Captured invoke(const std::function<int()> &command) {
	Captured r;
	CapturedOutput cap;
	struct Keep {  // emit_json() stores into r.doc until this scope ends, however it ends
		explicit Keep(nlohmann::json *into) { capture_json(into); }
		~Keep() { capture_json(nullptr); }
	} keep(&r.doc);
	reset_json_state();
	try {
		r.rc = command();
	} catch (const std::exception &e) {
		fmt::print(err_stream(), "dbkit: internal error: {}\n", e.what());
		ServerError err;
		err.message = std::string("internal error: ") + e.what();
		remember_error("internal", err);
		r.rc = kFailed;
	}
	// as main() does: a path that printed no document gets the error it reported
	if (json_documents_printed() == 0)
		r.doc = r.rc == kOk ? nlohmann::json{{"ok", true}}
		                    : last_error_json(r.rc, r.rc == kUsage ? "usage" : r.rc == kConnection ? "connection" : "failed");
	r.out = cap.out();
	r.err = cap.err();
	return r;
}

// The progress on the process's stderr (never a worker's captured one).
class Board {
public:
	Board(size_t total, bool live) : live_(live) { p_.total = static_cast<int>(total); }

	void say(const std::string &line) {
		std::lock_guard<std::mutex> lock(m_);
		fmt::print(stderr, "{}{}\n", live_ ? "\r\x1b[K" : "", line);
		draw();
	}
	void started() {
		std::lock_guard<std::mutex> lock(m_);
		++p_.running;
		draw();
	}
	void finished(size_t index, const Target &t, const TargetResult &r) {
		std::lock_guard<std::mutex> lock(m_);
		--p_.running;
		++p_.done;
		p_.failed += r.outcome == Outcome::Failed || r.outcome == Outcome::Unreachable;
		p_.drift += r.outcome == Outcome::Drift;
		p_.invalid += r.outcome == Outcome::Invalid;
		// on a terminal only failures get a line of their own above the live one
		if (!live_ || is_failure(r))
			fmt::print(stderr, "{}{}\n", live_ ? "\r\x1b[K" : "", finished_line(p_, index, t, r));
		draw();
	}
	void skipped(int n) {
		std::lock_guard<std::mutex> lock(m_);
		p_.skipped += n;
		draw();
	}
	void end() {
		std::lock_guard<std::mutex> lock(m_);
		if (live_)
			fmt::print(stderr, "\r\x1b[K");
		std::fflush(stderr);
	}

private:
	void draw() {
		if (live_) {
			fmt::print(stderr, "\r{}\x1b[K", progress_line(p_));
			std::fflush(stderr);
		}
	}
	std::mutex m_;
	Progress p_;
	bool live_;
};

struct Run {
	const std::string &command;
	const Common &base;
	const FleetOptions &o;
	const TargetCommand &run;
	const std::vector<Target> &targets;
	std::vector<TargetResult> results;
	std::vector<char> ran;
	Board &board;
	std::atomic<bool> stop{false};

	Run(const std::string &cmd, const Common &c, const FleetOptions &opts, const TargetCommand &r,
	    const std::vector<Target> &t, Board &b)
	    : command(cmd), base(c), o(opts), run(r), targets(t), results(t.size()), ran(t.size(), 0), board(b) {}

	std::string write_log(size_t i, const Captured &cap, const TargetResult &r) {
		fs::path file = fs::path(o.log_dir) / (targets[i].stem + ".log");
		std::ofstream f(file, std::ios::binary | std::ios::trunc);
		f << fmt::format("dbkit {}: target #{} (line {}) {}\n", command, i + 1, targets[i].line, targets[i].shown)
		  << fmt::format("outcome {}, exit code {}, {}\n", outcome_text(r.outcome), r.exit_code, human_ms(r.duration_ms))
		  << "--- stderr\n"
		  << cap.err;
		if (!cap.out.empty())
			f << "--- stdout\n" << cap.out;
		f << "--- json\n" << cap.doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
		f.close();
		if (!f)
			return "";
		return file.string();
	}

	TargetResult run_one(size_t i) {
		const Target &t = targets[i];
		Common c = base;
		c.url = t.conninfo;
		c.json = true;  // each target's own report is its JSON document, read by classify()
		auto t0 = std::chrono::steady_clock::now();
		Captured cap = invoke([&] { return run(c, t, i); });
		TargetResult r = classify(command, cap.rc, cap.doc);
		r.duration_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
		if (command == "migrate" && r.outcome == Outcome::Failed && cap.rc == kFailed) {
			// what is left to apply there, as `dbkit status` says (a reachable database)
			Captured st = invoke([&] { return cmd_status(c, false); });
			if (st.rc == kOk)
				r.pending = pending_in_status(st.doc);
		}
		if (!o.log_dir.empty()) {
			r.log = write_log(i, cap, r);
			if (r.log.empty())
				r.note += (r.note.empty() ? "" : ", ") + std::string("log not written");
		}
		return r;
	}

	// Targets [begin, end) on at most `parallel` threads; with --fail-fast none
	// starts once a failure is seen.
	void phase(size_t begin, size_t end, int parallel) {
		std::atomic<size_t> next{begin};
		auto work = [&]() noexcept {
			for (;;) {
				if (stop)
					return;
				size_t i = next++;
				if (i >= end)
					return;
				board.started();
				TargetResult r;
				try {
					r = run_one(i);
				} catch (const std::exception &e) {
					r.outcome = Outcome::Failed;
					r.exit_code = kFailed;
					r.error = std::string("internal error: ") + e.what();
				} catch (...) {
					r.outcome = Outcome::Failed;
					r.exit_code = kFailed;
					r.error = "internal error";
				}
				results[i] = r;
				ran[i] = 1;
				board.finished(i, targets[i], r);
				if (o.fail_fast && is_failure(r))
					stop = true;
			}
		};
		size_t n = std::min<size_t>(static_cast<size_t>(parallel), end - begin);
		std::vector<std::thread> pool;
		for (size_t k = 0; k < n; ++k) {
			try {
				pool.emplace_back(work);
			} catch (const std::system_error &) {  // no more threads: the ones started do the work
				break;
			}
		}
		if (pool.empty())
			work();
		for (auto &th : pool)
			th.join();
	}
};

int usage(const Common &c, const std::string &message) {
	fmt::print(err_stream(), "dbkit: {}\n", message);
	ServerError e;
	e.message = message;
	remember_error("usage", e);
	return kUsage;
}

// The folder once, before any target, with the options the command reads it
// with (so the read is the one every target shares): a folder that cannot be
// read stops the run before it touches a database, as it stops the command.
int read_folder_first(const std::string &command, const Common &c) {
	std::error_code ec;
	bool with_folder = c.dir_given || fs::is_directory(c.dir, ec);
	nlohmann::json payload;
	if (command == "migrate")
		return load_payload(c, payload);
	if (command == "status" && with_folder)
		return load_payload(c, payload);
	if (command == "drift" && with_folder)
		return load_payload(c, payload, /*snapshots=*/true);
	if (command == "check") {
		std::vector<core::Finding> findings;
		try {
			read_folder(c.dir, ReadOptions{true, &findings});
		} catch (const FolderError &e) {
			fmt::print(err_stream(), "dbkit: {}\n", e.what());
			if (c.json)
				emit_json({{"ok", false}, {"error", {{"message", e.what()}, {"kind", "folder"}}}});
			return e.bad_content ? kFailed : kUsage;
		}
	}
	return kOk;
}

}  // namespace

int run_fleet(const std::string &command, const Common &c, const FleetOptions &o, const TargetCommand &run) {
	if (c.url)
		return usage(c, "--targets and --url exclude each other: put that database in the targets file");
	std::vector<Target> targets;
	try {
		if (o.targets == "-") {
			targets = parse_targets(std::cin, "stdin");
		} else {
			std::ifstream f(o.targets);
			if (!f)
				return usage(c, fmt::format("cannot read the targets file {}: {}", o.targets, std::strerror(errno)));
			targets = parse_targets(f, o.targets);
		}
	} catch (const TargetsError &e) {
		return usage(c, e.what());
	}
	if (!o.log_dir.empty()) {
		std::error_code ec;
		fs::create_directories(o.log_dir, ec);
		if (ec || !fs::is_directory(o.log_dir, ec))
			return usage(c, fmt::format("--log-dir {} cannot be created: {}", o.log_dir,
			                            ec ? ec.message() : "not a directory"));
	}
	// before any worker starts: a target whose connection string sets no connect_timeout gets this one
	if (o.connect_timeout >= 0)
		set_connect_timeout(o.connect_timeout, /*replace=*/true);
	share_folder_reads(true);
	struct Unshare {
		~Unshare() { share_folder_reads(false); }
	} unshare;
	if (int rc = read_folder_first(command, c))
		return rc;

	RunInfo info{command, o.parallel, std::min<int>(o.canary, static_cast<int>(targets.size())), o.fail_fast};
	Board board(targets.size(), live_progress(isatty(STDERR_FILENO), std::getenv("CI"), std::getenv("TERM")));
	board.say(fmt::format("fleet: dbkit {} on {} target{}, parallel {}{}{}", command, targets.size(),
	                      targets.size() == 1 ? "" : "s", o.parallel,
	                      info.canary ? fmt::format(", canary {}", info.canary) : "", o.fail_fast ? ", fail-fast" : ""));
	auto t0 = std::chrono::steady_clock::now();
	Run r(command, c, o, run, targets, board);
	size_t canary = static_cast<size_t>(info.canary);
	bool canary_failed = false;
	if (canary > 0) {
		r.phase(0, canary, o.parallel);
		for (size_t i = 0; i < canary; ++i)
			canary_failed |= r.ran[i] && is_failure(r.results[i]);
		if (canary_failed)
			board.say(fmt::format("fleet: the canary failed: {} other target{} will not run",
			                      targets.size() - canary, targets.size() - canary == 1 ? "" : "s"));
	}
	if (!canary_failed && !r.stop)
		r.phase(canary, targets.size(), o.parallel);
	int skipped = 0;
	for (size_t i = 0; i < targets.size(); ++i) {
		if (r.ran[i])
			continue;
		r.results[i] = TargetResult{};
		r.results[i].skipped_because = canary_failed && i >= canary ? "canary failed" : "fail-fast";
		++skipped;
	}
	if (skipped)
		board.skipped(skipped);
	board.end();
	Totals t = totals(r.results, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
	reset_json_state();  // the workers' documents were theirs; this one is the run's
	if (c.json)
		emit_json(summary_json(info, targets, r.results, t));
	else
		std::fputs(summary_text(info, targets, r.results, t).c_str(), out_stream());
	return t.exit_code;
}

}  // namespace dbkit::client::fleet
