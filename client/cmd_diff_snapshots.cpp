// dbkit diff-snapshots FROM.json TO.json (hidden, for development): prints the
// plan extension/core/schema_diff makes from one dbkit.snapshot() to another, as
// an SQL script (hazards as comments). No database: the round-trip scripts feed it
// snapshots taken with psql and apply its output (scripts/diff_roundtrip.sh).
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "core/json.hpp"
#include "core/schema_diff.hpp"
#include "exit_codes.hpp"

namespace dbkit::client {

namespace {

bool read_snapshot(const std::string &path, core::JsonValue &out) {
	std::ifstream in(path, std::ios::binary);
	if (!in) {
		fmt::print(stderr, "dbkit: cannot read {}\n", path);
		return false;
	}
	std::stringstream ss;
	ss << in.rdbuf();
	core::JsonError err;
	if (!core::parse_json(ss.str(), out, err)) {
		fmt::print(stderr, "dbkit: {}:{}:{}: {}\n", path, err.line, err.column, err.message);
		return false;
	}
	if (out.kind != core::JsonValue::Kind::Object) {
		fmt::print(stderr, "dbkit: {} is not a dbkit.snapshot() object\n", path);
		return false;
	}
	return true;
}

}  // namespace

int cmd_diff_snapshots(const std::string &from_path, const std::string &to_path, const std::vector<std::string> &renames,
                       bool drop_and_add, bool no_concurrently) {
	core::JsonValue from, to;
	if (!read_snapshot(from_path, from) || !read_snapshot(to_path, to))
		return kUsage;
	core::DiffOptions opts;
	opts.drop_and_add = drop_and_add;
	opts.concurrent_indexes = !no_concurrently;
	for (auto &r : renames) {
		core::Rename x;
		if (!core::parse_rename(r, x)) {
			fmt::print(stderr, "dbkit: --rename {}: expected FROM=TO, e.g. public.users.bio=about\n", r);
			return kUsage;
		}
		opts.renames.push_back(x);
	}
	auto result = core::diff_schemas(from, to, opts);
	fmt::print("{}", core::render_plan(result));
	return result.refusals.empty() ? kOk : kFailed;
}

}  // namespace dbkit::client
