// libFuzzer target for dbkit's server-free core (extension/core): the code that
// reads what a client ships (journal, SQL files, snapshots) before PostgreSQL
// ever sees it. Built and run by tests/fuzz/run.sh (`make fuzz`).
//
// Input framing: the first byte picks a mode, the rest is split on NUL bytes
// into parts (real migration files contain no NUL: the client rejects them).
//
//   'J' <text>                       parse_json, json_string_member, json_quote round trip, code_objects,
//                                    live_objects, compare_objects, describe_drift on it
//   'T' <text>                       valid_utf8 (+ the client's repair loop),
//                                    split_breakpoints, line_at, byte_offset_of_char,
//                                    skip_space_and_comments, tag/folder names,
//                                    normalize_type/default, catalog_ident, audit_concerns,
//                                    lint's waived_rules / narrowing / is_volatile_function
//   'F' ctl \0 journal \0 (path \0 content \0)*   journal layout: load_folder,
//                                    check_drizzle_snapshots, check_files, newest_snapshot,
//                                    code_objects, per-file text pipeline, make_plan
//   'G' ctl \0 (path \0 content \0)*              the same without a journal
//   'D' code-snapshot \0 live-json   code_objects + live_objects + compare_objects
//   'E' flags key \0 expected \0 actual           describe_drift (flags bit 0/1:
//                                    expected/actual present), audit_concerns
//   any other first byte picks one of the above by value.
//
// `ctl` drives make_plan: byte i says how migration i appears in the history.
//
// Besides crashes and sanitizer reports, CHECK() asserts properties the
// headers promise (offsets stay in bounds, a split re-joins to its input, a
// JSON string survives json_quote, an object map compared with itself has no
// drift, ...). A failed CHECK aborts with its text on stderr.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/code_drift.hpp"
#include "core/drift_describe.hpp"
#include "core/finding.hpp"
#include "core/folder.hpp"
#include "core/json.hpp"
#include "core/lint_rules.hpp"
#include "core/plan.hpp"
#include "core/drizzle_snapshots.hpp"
#include "core/text.hpp"

using namespace dbkit::core;

#ifdef DBKIT_FUZZ_REPLAY
// Built into the unit tests (tests/unit/fuzz_replay_test.cpp): a broken invariant
// throws, so GoogleTest reports it against the input instead of aborting the run.
#include <stdexcept>
#define CHECK(cond)                                                                                  \
	do {                                                                                             \
		if (!(cond))                                                                                 \
			throw std::logic_error(std::string("fuzz_core: invariant failed: ") + #cond + " (" +    \
			                       __FILE__ + ":" + std::to_string(__LINE__) + ")");               \
	} while (0)
#else
#define CHECK(cond)                                                                                  \
	do {                                                                                             \
		if (!(cond)) {                                                                               \
			std::fprintf(stderr, "fuzz_core: invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			std::abort();                                                                            \
		}                                                                                            \
	} while (0)
#endif

namespace {

// FUZZ_CORE_TRACE=1: say what each input exercised (to check that seeds reach the code).
const bool kTrace = std::getenv("FUZZ_CORE_TRACE") != nullptr;

std::vector<std::string_view> split_nul(std::string_view s) {
	std::vector<std::string_view> out;
	size_t start = 0;
	for (;;) {
		size_t z = s.find('\0', start);
		if (z == std::string_view::npos) {
			out.push_back(s.substr(start));
			return out;
		}
		out.push_back(s.substr(start, z - start));
		start = z + 1;
	}
}

bool inside(std::string_view part, std::string_view whole) {
	return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// client/folder_reader.cpp's repaired(): each invalid byte (and NUL) becomes U+FFFD.
std::string repaired(std::string_view s) {
	std::string out;
	size_t bad = 0;
	while (!valid_utf8(s, &bad)) {
		CHECK(bad < s.size());
		out.append(s.substr(0, bad));
		out += "\xef\xbf\xbd";
		s.remove_prefix(bad + 1);
	}
	out.append(s);
	return out;
}

std::string fake_hash(std::string_view s) {  // 64 hex digits, like sha256 hex
	uint64_t h = 1469598103934665603ull;
	for (unsigned char c : s)
		h = (h ^ c) * 1099511628211ull;
	char buf[17];
	std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
	return std::string(buf) + buf + buf + buf;
}

// Every string and key of a parsed document must survive json_quote -> parse_json.
void check_quote_round_trip(const JsonValue &v, int &budget) {
	auto round_trip = [&](const std::string &s) {
		if (budget-- <= 0)
			return;
		JsonValue back;
		JsonError err;
		std::string q = json_quote(s);
		CHECK(parse_json(q, back, err));
		CHECK(back.kind == JsonValue::Kind::String);
		CHECK(back.string == s);
	};
	switch (v.kind) {
	case JsonValue::Kind::String: round_trip(v.string); break;
	case JsonValue::Kind::Array:
		for (const auto &x : v.items)
			check_quote_round_trip(x, budget);
		break;
	case JsonValue::Kind::Object:
		for (const auto &[k, x] : v.members) {
			round_trip(k);
			check_quote_round_trip(x, budget);
		}
		break;
	default: break;
	}
}

void check_compare(const ObjectMap &code, const ObjectMap &live) {
	auto items = compare_objects(code, live);
	for (const auto &d : items) {
		std::string key = d.kind + ":" + d.name;
		CHECK(!d.detail.empty());
		if (d.change == "missing")
			CHECK(code.count(key) && !live.count(key));
		else if (d.change == "extra")
			CHECK(!code.count(key) && live.count(key));
		else
			CHECK(d.change == "different" && code.count(key) && live.count(key));
	}
}

void fuzz_json(std::string_view text) {
	JsonValue v;
	JsonError err;
	if (!parse_json(text, v, err)) {
		CHECK(err.offset <= text.size());
		CHECK(err.line >= 1 && err.column >= 1);
		CHECK(!err.message.empty());
		CHECK(!json_string_member(text, "version"));
		return;
	}
	// json_string_member agrees with the full parse.
	for (std::string_view key : {"version", "id", "prevId"}) {
		const JsonValue *m = v.kind == JsonValue::Kind::Object ? v.find(key) : nullptr;
		auto got = json_string_member(text, key);
		CHECK(got.has_value() == (m && m->kind == JsonValue::Kind::String));
		if (got)
			CHECK(*got == m->string);
	}
	int budget = 256;
	check_quote_round_trip(v, budget);

	ObjectMap code;
	std::string why;
	if (code_objects(v, code, why)) {
		CHECK(compare_objects(code, code).empty());
		CHECK(compare_objects(code, ObjectMap{}).size() == code.size());
	} else {
		CHECK(!why.empty());
	}
	ObjectMap live = live_objects(v);
	CHECK(compare_objects(live, live).empty());
	if (kTrace)
		std::fprintf(stderr, "json: %zu code objects (%s), %zu live objects\n", code.size(), why.c_str(), live.size());
	check_compare(code, live);

	// The same entry on both sides is no drift.
	std::string s(text);
	DriftItem d = describe_drift("table:public.t", s, s);
	CHECK(d.change == "changed");
	if (v.kind == JsonValue::Kind::Object)
		CHECK(d.detail.empty());
}

void fuzz_text(std::string_view text) {
	size_t bad = ~size_t{0};
	if (!valid_utf8(text, &bad))
		CHECK(bad < text.size());
	std::string fixed = repaired(text);
	CHECK(valid_utf8(fixed, &bad));

	// A few positions taken from the input itself.
	uint32_t seed = text.size() >= 4 ? (uint8_t(text[0]) | uint8_t(text[1]) << 8 | uint8_t(text[2]) << 16 |
	                                    uint32_t(uint8_t(text[3])) << 24)
	                                 : 0;
	int char_pos = static_cast<int>(seed % 70000) - 2;

	auto chunks = split_breakpoints(text);
	CHECK(!chunks.empty());
	std::string joined;
	for (size_t i = 0; i < chunks.size(); ++i) {
		const Chunk &c = chunks[i];
		CHECK(c.offset <= text.size() && c.text.size() <= text.size() - c.offset);
		CHECK(text.substr(c.offset, c.text.size()) == c.text);
		CHECK(c.text.find(kBreakpoint) == std::string_view::npos);
		joined += std::string(c.text);
		if (i + 1 < chunks.size())
			joined += std::string(kBreakpoint);

		size_t lead = skip_space_and_comments(c.text, 0);
		CHECK(lead <= c.text.size());
		CHECK(blank_sql(c.text) == (lead >= c.text.size()));
		size_t mid = skip_space_and_comments(c.text, c.text.size() / 2);
		CHECK(mid >= c.text.size() / 2 && mid <= c.text.size());
		CHECK(skip_space_and_comments(c.text, c.text.size() + 5) == c.text.size() + 5);

		// extension/execute.cpp: a PostgreSQL error position (characters) mapped to a file line.
		size_t off = byte_offset_of_char(c.text, char_pos);
		CHECK(off <= c.text.size());
		CHECK(byte_offset_of_char(c.text, 1) == 0);
		size_t at = c.offset + off;
		int line = line_at(text, at);
		CHECK(line >= line_at(text, c.offset) && line >= 1);
	}
	CHECK(joined == text);
	int lines = line_at(text, text.size());
	CHECK(line_at(text, text.size() + 100) == lines);
	CHECK(line_at(text, 0) == 1);

	// Names: a tag builds a file name; a folder name carries a timestamp.
	if (tag_is_safe(text))
		CHECK(text.find('/') == std::string_view::npos && text.find("..") == std::string_view::npos);
	if (auto ms = folder_name_millis(text)) {
		CHECK(text.size() >= 15 && text[14] == '_');
		for (int i = 0; i < 14; ++i)
			CHECK(text[i] >= '0' && text[i] <= '9');
	}

	// The normalisers work on snapshot/catalog strings of any shape.
	std::string t(text.substr(0, 512));
	(void)normalize_type(t, "");
	(void)normalize_type(t, "app");
	(void)normalize_default(t);
	std::string q = catalog_ident(t);
	CHECK(!q.empty());
	size_t half = text.size() / 2;
	(void)audit_concerns(text.substr(0, half), text.substr(half));

	// Lint's text helpers: `-- dbkit:allow` waivers and type narrowing.
	for (const auto &rule : waived_rules(std::string(text)))
		CHECK(!rule.empty());
	std::string from(text.substr(0, half)), to(text.substr(half, 512));
	CHECK(!narrowing(from, from));
	(void)narrowing(from, to);
	(void)is_volatile_function(t);
}

// 'F' / 'G': a migrations folder as the client ships it.
void fuzz_folder(std::string_view rest, bool with_journal) {
	auto parts = split_nul(rest);
	std::string_view ctl = parts[0];
	size_t next = 1;
	FolderInput in;
	if (with_journal && next < parts.size())
		in.journal = parts[next++];
	std::set<std::string_view> paths;  // the client ships a JSON object: paths are unique
	for (; next + 1 < parts.size() && in.files.size() < 64; next += 2)
		if (paths.insert(parts[next]).second)
			in.files.emplace_back(parts[next], parts[next + 1]);

	Folder f = load_folder(in);
	std::set<std::string> tags;
	for (const auto &m : f.migrations) {
		CHECK(tag_is_safe(m.tag));
		CHECK(tags.insert(m.tag).second);
		CHECK(inside(m.sql, rest));
		bool named = false;
		for (const auto &[path, content] : in.files)
			named |= path == m.file && content.data() == m.sql.data();
		CHECK(named);
		if (f.layout == Folder::Layout::Folders)
			CHECK(folder_name_millis(m.tag) == m.when);
		(void)snapshot_path(f, m);
	}
	for (const auto &x : f.findings)
		CHECK(!x.code.empty() && !x.message.empty());
	if (kTrace) {
		std::fprintf(stderr, "folder: %zu files, layout %d, %zu migrations, findings:", in.files.size(),
		             static_cast<int>(f.layout), f.migrations.size());
		for (const auto &x : f.findings)
			std::fprintf(stderr, " %s", x.code.c_str());
		for (const auto &x : check_drizzle_snapshots(in, f))
			std::fprintf(stderr, " %s", x.code.c_str());
		std::fprintf(stderr, "\n");
	}
	if (f.layout == Folder::Layout::Empty)
		CHECK(f.migrations.empty());

	for (const auto &x : check_drizzle_snapshots(in, f))
		CHECK(!x.code.empty() && !x.message.empty());
	for (const auto &x : check_files(f))
		CHECK(x.code == "migration.empty");

	if (auto snap = newest_snapshot(in, f)) {
		JsonValue v;
		JsonError err;
		if (parse_json(snap->second, v, err)) {
			ObjectMap code;
			std::string why;
			if (code_objects(v, code, why))
				check_compare(code, ObjectMap{});
		}
	}

	// What migrate does with each file before running it.
	std::vector<std::string> hashes;
	for (const auto &m : f.migrations) {
		size_t bad = 0;
		if (!valid_utf8(m.sql, &bad))
			CHECK(bad < m.sql.size());
		for (const Chunk &c : split_breakpoints(m.sql)) {
			if (blank_sql(c.text))
				continue;
			size_t lead = skip_space_and_comments(c.text, 0);
			CHECK(lead < c.text.size());
			CHECK(line_at(m.sql, c.offset + lead) >= 1);
		}
		hashes.push_back(fake_hash(m.sql));
	}

	// The history, as ctl describes it.
	std::vector<HistoryRow> history;
	std::vector<DrizzleRow> drizzle;
	for (size_t i = 0; i < f.migrations.size() && i < ctl.size(); ++i) {
		const Migration &m = f.migrations[i];
		unsigned c = static_cast<unsigned char>(ctl[i]);
		switch (c % 7) {
		case 0: break;                                                             // pending
		case 1: history.push_back({m.tag, hashes[i], m.idx, m.when}); break;       // applied
		case 2: history.push_back({m.tag, fake_hash("x"), m.idx, m.when}); break;  // modified
		case 3: history.push_back({"old_" + m.tag, hashes[i], m.idx, m.when}); break;  // renamed
		case 4: drizzle.push_back({int64_t(i), hashes[i], m.when, std::nullopt}); break;
		case 5: drizzle.push_back({int64_t(i), hashes[i], std::nullopt, m.tag}); break;
		case 6: drizzle.push_back({int64_t(i), fake_hash("y"), m.when, std::nullopt}); break;
		}
		if (c & 0x80)
			history.push_back({"gone_" + std::to_string(i), fake_hash(m.tag), 1000 + int64_t(i), 0});
		if (c & 0x40)
			drizzle.push_back({1000 + int64_t(i), fake_hash(m.file), std::nullopt, std::nullopt});
	}
	PlanOptions opts;
	opts.out_of_order = ctl.size() % 2 == 1;
	Plan plan = make_plan(f.migrations, hashes, history, drizzle, opts);
	if (kTrace) {
		std::fprintf(stderr, "plan:");
		for (const auto &it : plan.items)
			std::fprintf(stderr, " %s=%s", it.tag.c_str(), state_name(it.state));
		std::fprintf(stderr, " (%zu refusals, %zu notices)\n", plan.refusals.size(), plan.notices.size());
	}
	CHECK(plan.items.size() >= f.migrations.size());
	for (size_t i = 0; i < plan.items.size(); ++i) {
		const PlanItem &it = plan.items[i];
		if (i < f.migrations.size())
			CHECK(it.pos && *it.pos == i && it.tag == f.migrations[i].tag);
		else
			CHECK(!it.pos && it.state == State::Missing);
		if (plan.runs(it))
			CHECK(it.state == State::Pending || it.state == State::OutOfOrder);
	}
	if (!opts.out_of_order)
		for (const auto &it : plan.items)
			if (it.state == State::OutOfOrder)
				CHECK(!plan.refusals.empty());
}

// 'D': drift against the code.
void fuzz_code_drift(std::string_view rest) {
	auto parts = split_nul(rest);
	JsonValue code_json, live_json;
	JsonError err;
	ObjectMap code;
	std::string why;
	if (parse_json(parts[0], code_json, err))
		(void)code_objects(code_json, code, why);
	ObjectMap live;
	if (parts.size() > 1 && parse_json(parts[1], live_json, err))
		live = live_objects(live_json);
	check_compare(code, live);
	check_compare(live, code);
	if (kTrace)
		std::fprintf(stderr, "drift: %zu code objects (%s), %zu live objects, %zu items\n", code.size(), why.c_str(),
		             live.size(), compare_objects(code, live).size());
}

// 'E': one snapshot entry, as the migrations left it against the database now.
void fuzz_describe(std::string_view rest) {
	if (rest.empty())
		return;
	unsigned flags = static_cast<unsigned char>(rest[0]);
	auto parts = split_nul(rest.substr(1));
	std::string_view key = parts[0];
	std::optional<std::string> expected, actual;
	if (flags & 1)
		expected = std::string(parts.size() > 1 ? parts[1] : "");
	if (flags & 2)
		actual = std::string(parts.size() > 2 ? parts[2] : "");
	DriftItem d = describe_drift(key, expected, actual);
	CHECK(d.change == (!expected ? "added" : !actual ? "removed" : "changed"));
	CHECK(!d.kind.empty() || key.empty() || key[0] == ':');
	(void)audit_concerns(d.name, parts.size() > 1 ? parts[1] : "");
	(void)audit_concerns(key, d.name);
}

}  // namespace

// The whole target, callable without libFuzzer: the unit tests replay every file of
// tests/fuzz/crashes/ through it (tests/unit/fuzz_replay_test.cpp).
int dbkit_fuzz_core_one(const uint8_t *data, size_t size) {
	if (size == 0)
		return 0;
	std::string_view rest(reinterpret_cast<const char *>(data) + 1, size - 1);
	char mode = static_cast<char>(data[0]);
	static const char kModes[] = {'J', 'T', 'F', 'G', 'D', 'E'};
	if (std::string_view("JTFGDE").find(mode) == std::string_view::npos)
		mode = kModes[data[0] % sizeof kModes];
	switch (mode) {
	case 'J': fuzz_json(rest); break;
	case 'T': fuzz_text(rest); break;
	case 'F': fuzz_folder(rest, true); break;
	case 'G': fuzz_folder(rest, false); break;
	case 'D': fuzz_code_drift(rest); break;
	case 'E': fuzz_describe(rest); break;
	}
	return 0;
}

#ifndef DBKIT_FUZZ_REPLAY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	return dbkit_fuzz_core_one(data, size);
}
#endif
