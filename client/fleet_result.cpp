#include "fleet_result.hpp"

#include <set>

#include <fmt/format.h>

#include "exit_codes.hpp"

namespace dbkit::client::fleet {

namespace {

const nlohmann::json &member(const nlohmann::json &doc, const char *key) {
	static const nlohmann::json null;
	return doc.is_object() && doc.contains(key) ? doc[key] : null;
}

int int_member(const nlohmann::json &doc, const char *key) {
	const auto &v = member(doc, key);
	return v.is_number_integer() ? v.get<int>() : 0;
}

std::string string_member(const nlohmann::json &doc, const char *key) {
	const auto &v = member(doc, key);
	return v.is_string() ? v.get<std::string>() : "";
}

size_t array_size(const nlohmann::json &doc, const char *key) {
	const auto &v = member(doc, key);
	return v.is_array() ? v.size() : 0;
}

std::string plural(int n, const char *word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

void add_note(std::string &note, const std::string &part) {
	if (!part.empty())
		note += (note.empty() ? "" : ", ") + part;
}

}  // namespace

const std::vector<Outcome> &all_outcomes() {
	static const std::vector<Outcome> all = {Outcome::Applied, Outcome::UpToDate, Outcome::Pending,
	                                         Outcome::Clean,   Outcome::Drift,    Outcome::Valid,
	                                         Outcome::Invalid, Outcome::Failed,   Outcome::Unreachable,
	                                         Outcome::Skipped};
	return all;
}

const char *outcome_id(Outcome o) {
	switch (o) {
	case Outcome::Applied: return "applied";
	case Outcome::UpToDate: return "up_to_date";
	case Outcome::Pending: return "pending";
	case Outcome::Clean: return "clean";
	case Outcome::Drift: return "drift";
	case Outcome::Valid: return "valid";
	case Outcome::Invalid: return "invalid";
	case Outcome::Failed: return "failed";
	case Outcome::Unreachable: return "unreachable";
	case Outcome::Skipped: return "skipped";
	}
	return "failed";
}

std::string outcome_text(Outcome o) {
	std::string s = outcome_id(o);
	for (auto &c : s)
		if (c == '_')
			c = ' ';
	return s;
}

std::optional<int> pending_in_status(const nlohmann::json &doc) {
	const auto &rows = member(doc, "migrations");
	if (!rows.is_array())
		return std::nullopt;
	int n = 0;
	for (const auto &r : rows) {
		std::string state = string_member(r, "state");
		n += state == "pending" || state == "out_of_order" || state == "adoptable";
	}
	return n;
}

TargetResult classify(const std::string &command, int exit_code, const nlohmann::json &doc) {
	TargetResult r;
	r.exit_code = exit_code;
	if (exit_code != kOk && exit_code != kDrift && exit_code != kInvalid) {
		const auto &err = member(doc, "error");
		r.error = string_member(err, "message");
		r.sqlstate = string_member(err, "sqlstate");
		r.hint = string_member(err, "hint");
		// drift that cannot compare says why in its document, not as an error
		for (const char *why : {"migrations_unavailable", "code_unavailable"})
			if (r.error.empty() && !string_member(doc, why).empty())
				r.error = string_member(doc, why);
		if (r.error.empty())
			r.error = fmt::format("{} failed with exit code {} (no message)", command, exit_code);
		r.outcome = exit_code == kConnection && string_member(err, "kind") == "connection" ? Outcome::Unreachable
		                                                                                   : Outcome::Failed;
		if (command == "migrate" && r.outcome == Outcome::Failed) {  // what committed before the failure (--transaction each, non-transactional)
			int n = 0;
			for (const auto &m : member(doc, "migrations"))
				n += string_member(m, "action") == "applied";
			r.applied = n;
		}
		return r;
	}
	if (command == "migrate") {
		if (doc.is_object() && doc.contains("rehearsed")) {  // --rehearse: up, down, up, rolled back
			r.applied = 0;
			r.pending = int_member(doc, "pending");
			r.outcome = *r.pending > 0 ? Outcome::Pending : Outcome::UpToDate;
			r.note = string_member(doc, "summary");
			return r;
		}
		if (member(doc, "dry_run").is_boolean() && member(doc, "dry_run").get<bool>()) {
			std::set<std::string> tags;
			for (const auto &s : member(doc, "statements"))
				tags.insert(string_member(s, "tag"));
			r.applied = 0;
			r.pending = static_cast<int>(tags.size());
			r.outcome = tags.empty() ? Outcome::UpToDate : Outcome::Pending;
			r.note = fmt::format("dry run: {} rehearsed and rolled back", plural(int(array_size(doc, "statements")), "statement"));
			return r;
		}
		r.applied = int_member(doc, "applied");
		r.pending = 0;
		int adopted = int_member(doc, "adopted"), renamed = int_member(doc, "renamed");
		r.outcome = *r.applied > 0 ? Outcome::Applied : Outcome::UpToDate;
		if (adopted)
			add_note(r.note, fmt::format("{} adopted from drizzle", adopted));
		if (renamed)
			add_note(r.note, fmt::format("{} renamed", renamed));
		const auto &backup = member(doc, "backup");
		r.backup = string_member(backup, "file");
		return r;
	}
	if (command == "status") {
		r.pending = pending_in_status(doc);
		if (!r.pending) {  // without a folder: the history only
			r.applied = static_cast<int>(array_size(doc, "history"));
			r.outcome = Outcome::UpToDate;
			r.note = "history only (no folder)";
			return r;
		}
		std::map<std::string, int> states;
		for (const auto &m : member(doc, "migrations"))
			++states[string_member(m, "state")];
		r.applied = states["applied"] + states["renamed"];
		r.outcome = *r.pending > 0 ? Outcome::Pending : Outcome::UpToDate;
		for (const char *st : {"out_of_order", "adoptable", "modified", "missing"})
			if (states[st])
				add_note(r.note, fmt::format("{} {}", states[st], st));
		if (array_size(doc, "stopped"))
			add_note(r.note, "a non-transactional migration stopped half-way");
		return r;
	}
	if (command == "drift") {
		int n = static_cast<int>(array_size(doc, "migrations") + array_size(doc, "code"));
		r.outcome = exit_code == kDrift ? Outcome::Drift : Outcome::Clean;
		if (n)
			r.note = plural(n, "difference");
		if (member(doc, "code").is_null() && doc.is_object() && doc.contains("code_unavailable"))
			add_note(r.note, "no comparison with the code");
		return r;
	}
	if (command == "check") {
		int errors = int_member(doc, "errors"), warnings = int_member(doc, "warnings");
		r.outcome = exit_code == kInvalid ? Outcome::Invalid : Outcome::Valid;
		if (errors || warnings)
			r.note = plural(errors, "error") + ", " + plural(warnings, "warning");
		return r;
	}
	r.outcome = exit_code == kOk ? Outcome::UpToDate : Outcome::Failed;
	return r;
}

int exit_rank(int code) {
	switch (code) {
	case kOk: return 0;
	case kDrift: return 1;
	case kInvalid: return 2;
	case kFailed: return 3;
	case kConnection: return 4;
	case kUsage: return 5;
	default: return 3;  // an exit code this list does not know is a failure
	}
}

int worse_exit(int a, int b) {
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return exit_rank(b) > exit_rank(a) ? b : a;
}

Totals totals(const std::vector<TargetResult> &results, double duration_ms) {
	Totals t;
	t.targets = static_cast<int>(results.size());
	t.duration_ms = duration_ms;
	for (Outcome o : all_outcomes())
		t.outcomes[o] = 0;
	for (const auto &r : results) {
		++t.outcomes[r.outcome];
		t.applied += r.applied.value_or(0);
		t.pending += r.pending.value_or(0);
		t.exit_code = worse_exit(t.exit_code, r.exit_code);
	}
	return t;
}

}  // namespace dbkit::client::fleet
