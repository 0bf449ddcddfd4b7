#include "fleet_report.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "report.hpp"

namespace dbkit::client::fleet {

namespace {

std::string plural(int n, const char *word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

// Counts a person reads left to right: exactly n display columns (UTF-8 aware), cut with "...".
size_t columns(const std::string &s) {
	size_t n = 0;
	for (unsigned char c : s)
		n += (c & 0xC0) != 0x80;
	return n;
}

std::string fit(const std::string &s, size_t width) {
	if (columns(s) <= width)
		return s + std::string(width - columns(s), ' ');
	std::string out;
	size_t n = 0;
	for (size_t i = 0; i < s.size(); ++i) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		if ((c & 0xC0) != 0x80 && ++n > width - 3)
			break;
		out += s[i];
	}
	return out + "...";
}

std::string outcome_cell(const TargetResult &r) {
	if (r.outcome == Outcome::Skipped && !r.skipped_because.empty())
		return "skipped (" + r.skipped_because + ")";
	return outcome_text(r.outcome);
}

std::string count_cell(const std::optional<int> &n) { return n ? std::to_string(*n) : "-"; }

std::string error_line(const TargetResult &r) {
	std::string e = r.error;
	if (!r.sqlstate.empty() && e.find(r.sqlstate) == std::string::npos)
		e += " (SQLSTATE " + r.sqlstate + ")";
	return e;
}

// Continuation lines of a multi-line message, indented under its first.
std::string indented(const std::string &text, const std::string &pad) {
	std::string out;
	for (char c : text) {
		out += c;
		if (c == '\n')
			out += pad;
	}
	while (!out.empty() && (out.back() == ' ' || out.back() == '\n' || out.back() == '\t'))
		out.pop_back();
	return out;
}

std::string what_happened(const TargetResult &r) {
	switch (r.outcome) {
	case Outcome::Applied:
		return fmt::format("applied {}", plural(r.applied.value_or(0), "migration"));
	case Outcome::Pending:
		return fmt::format("{} pending", plural(r.pending.value_or(0), "migration"));
	case Outcome::Failed:
	case Outcome::Unreachable: {
		std::string e = error_line(r);
		size_t nl = e.find('\n');
		return outcome_text(r.outcome) + ": " + (nl == std::string::npos ? e : e.substr(0, nl) + " ...");
	}
	default:
		return outcome_text(r.outcome) + (r.note.empty() ? "" : " (" + r.note + ")");
	}
}

}  // namespace

bool live_progress(bool stderr_is_terminal, const char *ci, const char *term) {
	if (!stderr_is_terminal)
		return false;
	if (ci && *ci && std::strcmp(ci, "false") != 0 && std::strcmp(ci, "0") != 0)
		return false;
	return !(term && std::strcmp(term, "dumb") == 0);
}

std::string progress_line(const Progress &p) {
	std::string s = fmt::format("fleet: {}/{} done, {} failed", p.done, p.total, p.failed);
	if (p.drift)
		s += fmt::format(", {} drift", p.drift);
	if (p.invalid)
		s += fmt::format(", {} invalid", p.invalid);
	if (p.skipped)
		s += fmt::format(", {} skipped", p.skipped);
	return s + fmt::format(", {} running", p.running);
}

std::string finished_line(const Progress &p, size_t index, const Target &t, const TargetResult &r) {
	return fmt::format("fleet: [{}/{}] #{} {}: {} ({})", p.done, p.total, index + 1, t.shown, what_happened(r),
	                   human_ms(r.duration_ms));
}

std::string summary_text(const RunInfo &run, const std::vector<Target> &targets,
                         const std::vector<TargetResult> &results, const Totals &totals) {
	size_t width = std::string("target").size(), owidth = std::string("outcome").size();
	for (size_t i = 0; i < targets.size(); ++i) {
		width = std::max(width, columns(targets[i].shown));  // never cut: the dbname may come last
		owidth = std::max(owidth, columns(outcome_cell(results[i])));
	}
	size_t iwidth = std::max<size_t>(2, std::to_string(targets.size()).size() + 1);
	std::string out = fmt::format("{:>{}}  {}  {}  {:>7}  {:>7}  {:>9}  {}\n", "#", iwidth, fit("target", width),
	                              fit("outcome", owidth), "applied", "pending", "time", "note");
	for (size_t i = 0; i < targets.size(); ++i) {
		const auto &r = results[i];
		bool ran = r.exit_code >= 0;
		std::string line = fmt::format("{:>{}}  {}  {}  {:>7}  {:>7}  {:>9}  {}", i + 1, iwidth, fit(targets[i].shown, width),
		                               fit(outcome_cell(r), owidth), count_cell(r.applied), count_cell(r.pending),
		                               ran ? human_ms(r.duration_ms) : "-", r.note);
		while (!line.empty() && line.back() == ' ')
			line.pop_back();
		out += line + "\n";
	}
	bool any_failed = false;
	for (size_t i = 0; i < targets.size(); ++i) {
		const auto &r = results[i];
		if (r.outcome != Outcome::Failed && r.outcome != Outcome::Unreachable)
			continue;
		if (!any_failed)
			out += "failures:\n";
		any_failed = true;
		std::string head = fmt::format("  #{} {}: ", i + 1, targets[i].shown);
		out += head + indented(error_line(r), "      ") + "\n";
		if (!r.hint.empty())
			out += "      hint: " + indented(r.hint, "      ") + "\n";
		if (!r.log.empty())
			out += "      log:  " + r.log + "\n";
	}
	std::string counts;
	for (Outcome o : all_outcomes())
		if (int n = totals.outcomes.count(o) ? totals.outcomes.at(o) : 0)
			counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, outcome_text(o));
	std::string migrations;
	if (run.command == "migrate")
		migrations = fmt::format("; {} applied", plural(totals.applied, "migration"));
	if (run.command == "status" || (run.command == "migrate" && totals.pending))
		migrations += fmt::format("; {} pending", plural(totals.pending, "migration"));
	out += fmt::format("fleet: dbkit {} on {} in {} (parallel {}{}{}): {}{}; exit code {}\n", run.command,
	                   plural(totals.targets, "target"), human_ms(totals.duration_ms), run.parallel,
	                   run.canary ? fmt::format(", canary {}", run.canary) : "", run.fail_fast ? ", fail-fast" : "",
	                   counts, migrations, totals.exit_code);
	return out;
}

nlohmann::json summary_json(const RunInfo &run, const std::vector<Target> &targets,
                            const std::vector<TargetResult> &results, const Totals &totals) {
	auto opt = [](const std::optional<int> &n) { return n ? nlohmann::json(*n) : nlohmann::json(); };
	auto str = [](const std::string &s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
	nlohmann::json rows = nlohmann::json::array();
	for (size_t i = 0; i < targets.size(); ++i) {
		const auto &r = results[i];
		bool ran = r.exit_code >= 0;
		nlohmann::json error;
		if (!r.error.empty()) {
			error = {{"message", r.error}};
			if (!r.sqlstate.empty())
				error["sqlstate"] = r.sqlstate;
			if (!r.hint.empty())
				error["hint"] = r.hint;
		}
		rows.push_back({{"index", i + 1},
		                {"line", targets[i].line},
		                {"target", targets[i].shown},
		                {"outcome", outcome_id(r.outcome)},
		                {"exit_code", ran ? nlohmann::json(r.exit_code) : nlohmann::json()},
		                {"applied", opt(r.applied)},
		                {"pending", opt(r.pending)},
		                {"duration_ms", ran ? nlohmann::json(r.duration_ms) : nlohmann::json()},
		                {"note", str(r.note)},
		                {"error", error},
		                {"skipped", str(r.skipped_because)},
		                {"backup", str(r.backup)},
		                {"log", str(r.log)}});
	}
	nlohmann::json outcomes = nlohmann::json::object();
	for (Outcome o : all_outcomes())
		outcomes[outcome_id(o)] = totals.outcomes.count(o) ? totals.outcomes.at(o) : 0;
	return {{"ok", totals.exit_code == 0},
	        {"command", run.command},
	        {"exit_code", totals.exit_code},
	        {"parallel", run.parallel},
	        {"canary", run.canary},
	        {"fail_fast", run.fail_fast},
	        {"targets", rows},
	        {"totals",
	         {{"targets", totals.targets},
	          {"outcomes", outcomes},
	          {"applied", totals.applied},
	          {"pending", totals.pending},
	          {"duration_ms", totals.duration_ms}}}};
}

}  // namespace dbkit::client::fleet
