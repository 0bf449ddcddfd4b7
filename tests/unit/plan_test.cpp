#include <gtest/gtest.h>

#include "core/plan.hpp"
#include "core/text.hpp"

using namespace dbkit::core;

namespace {

std::vector<Migration> folder(std::initializer_list<const char *> tags) {
	std::vector<Migration> out;
	int64_t i = 0;
	for (const char *t : tags) {
		Migration m;
		m.idx = i;
		m.tag = t;
		m.when = 1000 + i++;
		out.push_back(m);
	}
	return out;
}
std::vector<std::string> hashes(const std::vector<Migration> &ms) {
	std::vector<std::string> out;
	for (const auto &m : ms)
		out.push_back("h-" + m.tag);
	return out;
}
State state_of(const Plan &p, const std::string &tag) {
	for (const auto &it : p.items)
		if (it.tag == tag)
			return it.state;
	ADD_FAILURE() << "no item " << tag;
	return State::Pending;
}

}  // namespace

TEST(Plan, PendingByIdentityNotTime) {
	auto ms = folder({"0000_a", "0001_b", "0002_c"});
	// history recorded with any `when`: only tag + hash matter
	Plan p = make_plan(ms, hashes(ms), {{"0000_a", "h-0000_a", 0, 999999}}, {}, {});
	EXPECT_EQ(state_of(p, "0000_a"), State::Applied);
	EXPECT_EQ(state_of(p, "0001_b"), State::Pending);
	EXPECT_TRUE(p.refusals.empty());
	EXPECT_TRUE(p.runs(p.items[1]));
	EXPECT_FALSE(p.runs(p.items[0]));
}

TEST(Plan, ModifiedMissingOutOfOrderAreRefused) {
	auto ms = folder({"0000_a", "0001_b", "0002_c"});
	auto hs = hashes(ms);
	std::vector<HistoryRow> history = {{"0000_a", "other", 0, 0}, {"0002_c", "h-0002_c", 2, 0}, {"0003_gone", "x", 3, 0}};
	Plan p = make_plan(ms, hs, history, {}, {});
	EXPECT_EQ(state_of(p, "0000_a"), State::Modified);
	EXPECT_EQ(state_of(p, "0001_b"), State::OutOfOrder);
	EXPECT_EQ(state_of(p, "0003_gone"), State::Missing);
	ASSERT_EQ(p.refusals.size(), 3u);
	for (const auto &it : p.items)
		EXPECT_FALSE(p.runs(it));
	EXPECT_NE(p.refusals[0].hint.find("dbkit accept-change 0000_a"), std::string::npos);
}

TEST(Plan, OutOfOrderAllowedByOption) {
	auto ms = folder({"0000_a", "0001_b", "0002_c"});
	PlanOptions o;
	o.out_of_order = true;
	Plan p = make_plan(ms, hashes(ms), {{"0000_a", "h-0000_a", 0, 0}, {"0002_c", "h-0002_c", 2, 0}}, {}, o);
	EXPECT_TRUE(p.refusals.empty());
	EXPECT_EQ(state_of(p, "0001_b"), State::OutOfOrder);
	EXPECT_TRUE(p.runs(p.items[1]));
}

TEST(Plan, AdoptsDrizzleRowsByWhenAndHash) {
	auto ms = folder({"0000_a", "0001_b", "0002_c"});
	auto hs = hashes(ms);
	std::vector<DrizzleRow> dz = {{1, "h-0000_a", 1000, std::nullopt}, {2, "h-0001_b", 1001, std::nullopt}};
	Plan p = make_plan(ms, hs, {}, dz, {});
	EXPECT_EQ(state_of(p, "0000_a"), State::Adopt);
	EXPECT_EQ(state_of(p, "0001_b"), State::Adopt);
	EXPECT_EQ(state_of(p, "0002_c"), State::Pending);
	EXPECT_TRUE(p.notices.empty());
}

TEST(Plan, DrizzleRowWithOtherContentIsModified) {
	auto ms = folder({"0000_a"});
	Plan p = make_plan(ms, hashes(ms), {}, {{1, "old", 1000, std::nullopt}}, {});
	EXPECT_EQ(state_of(p, "0000_a"), State::Modified);
	EXPECT_EQ(p.refusals.size(), 1u);
}

TEST(Plan, DrizzleRowsDbkitWroteAreNotAdoptedAgain) {
	auto ms = folder({"0000_a", "0001_b"});
	// dbkit applied 0000 and mirrored it; drizzle's table has that row only
	Plan p = make_plan(ms, hashes(ms), {{"0000_a", "h-0000_a", 0, 1000}}, {{1, "h-0000_a", 1000, std::nullopt}}, {});
	EXPECT_EQ(state_of(p, "0001_b"), State::Pending);
	EXPECT_TRUE(p.notices.empty());
}

TEST(Plan, UnmatchedDrizzleRowIsReportedNotGuessed) {
	auto ms = folder({"0000_a"});
	Plan p = make_plan(ms, hashes(ms), {}, {{7, "zzz", 5, std::nullopt}}, {});
	EXPECT_EQ(state_of(p, "0000_a"), State::Pending);
	ASSERT_EQ(p.notices.size(), 1u);
	EXPECT_EQ(p.notices[0].code, "drizzle.unmatched_row");
	EXPECT_TRUE(p.refusals.empty());
}

TEST(Plan, Drizzle10MatchesByName) {
	auto ms = folder({"20261125221325_a"});
	Plan p = make_plan(ms, hashes(ms), {}, {{1, "h-20261125221325_a", 5, std::string("20261125221325_a")}}, {});
	EXPECT_EQ(state_of(p, "20261125221325_a"), State::Adopt);
}

TEST(Plan, RenamedMigrationFollowsItsContent) {
	// drizzle-kit up: 0000_a.sql became 20261125221150_a/migration.sql, same bytes
	std::vector<Migration> ms = folder({"20261125221150_a", "20261125221200_b"});
	std::vector<std::string> hs = {"h-0000_a", "h-new"};
	Plan p = make_plan(ms, hs, {{"0000_a", "h-0000_a", 0, 0}}, {}, {});
	EXPECT_TRUE(p.refusals.empty());
	EXPECT_EQ(state_of(p, "20261125221150_a"), State::Renamed);
	EXPECT_EQ(p.items[0].renamed_from, "0000_a");
	EXPECT_EQ(state_of(p, "20261125221200_b"), State::Pending);
	EXPECT_EQ(p.items.size(), 2u);  // 0000_a is not missing
}

// A file whose line endings alone changed since it was applied (a checkout with git's
// autocrlf) is still refused as modified, but the refusal says that is all it is.
TEST(Plan, LineEndingsOnlyChangeIsSaid) {
	auto ms = folder({"0000_a", "0001_b"});
	const std::string crlf = "CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n";
	const std::string lf = flip_line_endings(crlf);
	ASSERT_EQ(lf, "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n");
	ASSERT_EQ(flip_line_endings(lf), crlf);
	ms[0].sql = crlf;
	ms[1].sql = "changed";
	PlanOptions o;
	// stand-in hashes: the text itself
	o.flipped_hash = [&](size_t pos) { return flip_line_endings(ms[pos].sql); };
	Plan p = make_plan(ms, {crlf, "changed"}, {{"0000_a", lf, 0, 0}, {"0001_b", "before", 1, 0}}, {}, o);
	ASSERT_EQ(state_of(p, "0000_a"), State::Modified);
	ASSERT_EQ(state_of(p, "0001_b"), State::Modified);
	ASSERT_EQ(p.refusals.size(), 2u);
	EXPECT_NE(p.refusals[0].message.find("only its line endings differ: CRLF now, LF when applied"), std::string::npos)
	    << p.refusals[0].message;
	EXPECT_NE(p.refusals[0].hint.find("core.autocrlf"), std::string::npos);
	EXPECT_EQ(p.refusals[1].message.find("line endings"), std::string::npos) << "a real edit is not said to be one";
}
