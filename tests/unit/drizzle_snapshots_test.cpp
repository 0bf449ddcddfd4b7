#include <gtest/gtest.h>

#include <algorithm>

#include "core/drizzle_snapshots.hpp"

using namespace dbkit::core;

namespace {
std::string j3 = R"({"version": "7", "dialect": "postgresql", "entries": [
 {"idx": 0, "version": "7", "when": 1, "tag": "0000_a", "breakpoints": true},
 {"idx": 1, "version": "7", "when": 2, "tag": "0001_b", "breakpoints": true},
 {"idx": 2, "version": "7", "when": 3, "tag": "0002_c", "breakpoints": true}]})";
std::string snap(const char *id, const char *prev) {
	return std::string("{\"id\": \"") + id + "\", \"prevId\": \"" + prev + "\", \"tables\": {}}";
}
// j3's three migrations with one snapshot each
FolderInput three(const std::string &s0, const std::string &s1, const std::string &s2) {
	return {j3, {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}, {"0002_c.sql", "C"},
	             {"meta/0000_snapshot.json", s0}, {"meta/0001_snapshot.json", s1}, {"meta/0002_snapshot.json", s2}}};
}
const Finding *find(const std::vector<Finding> &fs, const std::string &code) {
	auto it = std::find_if(fs.begin(), fs.end(), [&](const Finding &f) { return f.code == code; });
	return it == fs.end() ? nullptr : &*it;
}
}  // namespace

TEST(Snapshots, CleanChainHasNoFindings) {
	std::string s0 = snap("a", kZeroSnapshotId), s1 = snap("b", "a"), s2 = snap("c", "b");
	FolderInput in = three(s0, s1, s2);
	EXPECT_TRUE(check_drizzle_snapshots(in, load_folder(in)).empty());
}

TEST(Snapshots, NoSnapshotsShippedMeansNoFindings) {
	FolderInput in{j3, {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}, {"0002_c.sql", "C"}}};
	EXPECT_TRUE(check_drizzle_snapshots(in, load_folder(in)).empty());
}

TEST(Snapshots, CollisionNamesParentAndBothChildren) {
	std::string s0 = snap("a", kZeroSnapshotId), s1 = snap("b", "a"), s2 = snap("c", "a");
	FolderInput in = three(s0, s1, s2);
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *c = find(fs, "snapshot.collision");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->subject, "meta/0000_snapshot.json");
	EXPECT_NE(c->message.find("meta/0001_snapshot.json and meta/0002_snapshot.json"), std::string::npos) << c->message;
	EXPECT_NE(c->message.find("same parent, meta/0000_snapshot.json"), std::string::npos) << c->message;
}

// A snapshot copied by hand (the same id and parent, quackback's 0050-0052): a duplicate id,
// not two branches that collide (the collision's "delete its .sql" would lose a migration).
TEST(Snapshots, CopiedSnapshotsAreADuplicateNotACollision) {
	std::string s0 = snap("a", kZeroSnapshotId), s1 = snap("b", "a"), s2 = snap("b", "a");
	FolderInput in = three(s0, s1, s2);
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	EXPECT_NE(find(fs, "snapshot.duplicate_id"), nullptr);
	EXPECT_EQ(find(fs, "snapshot.collision"), nullptr);
}

// Three copies of one snapshot (OpenVitals): every copy is named, not the first pair only.
TEST(Snapshots, EveryCopyOfOneIdIsNamed) {
	std::string s0 = snap("a", kZeroSnapshotId);
	FolderInput in = three(s0, s0, s0);
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *d = find(fs, "snapshot.duplicate_id");
	ASSERT_NE(d, nullptr);
	EXPECT_NE(d->message.find("meta/0000_snapshot.json, meta/0001_snapshot.json and meta/0002_snapshot.json have the "
	                          "same id a"),
	          std::string::npos)
	    << d->message;
	EXPECT_NE(d->hint.find("the later migrations"), std::string::npos);
}

TEST(Snapshots, BrokenChain) {
	std::string s0 = snap("a", kZeroSnapshotId), s1 = snap("a", "a"), s2 = snap("c", "zzz");
	FolderInput in = three(s0, s1, s2);
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	EXPECT_NE(find(fs, "snapshot.duplicate_id"), nullptr);
	EXPECT_NE(find(fs, "snapshot.prev_missing"), nullptr);
}

TEST(Snapshots, UnreadableAndMissing) {
	std::string s0 = "<<<<<<< HEAD";
	FolderInput in{j3, {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}, {"0002_c.sql", "C"}, {"meta/0000_snapshot.json", s0}}};
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	EXPECT_NE(find(fs, "snapshot.unreadable"), nullptr);
	const Finding *m = find(fs, "snapshot.missing");
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(m->severity, Severity::Warning);
}

TEST(Snapshots, EmptyMigration) {
	std::string j = R"({"version": "7", "dialect": "postgresql", "entries": [{"idx": 0, "version": "7", "when": 1, "tag": "0000_a", "breakpoints": true}]})";
	FolderInput in{j, {{"0000_a.sql", "  -- nothing\n"}}};
	auto fs = check_files(load_folder(in));
	ASSERT_EQ(fs.size(), 1u);
	EXPECT_EQ(fs[0].code, "migration.empty");
}

TEST(Snapshots, Drizzle10PrevIdsAndMerges) {
	std::string j = "";
	std::string s0 = R"({"version": "8", "id": "a", "prevIds": ["00000000-0000-0000-0000-000000000000"]})";
	std::string s1 = R"({"version": "8", "id": "b", "prevIds": ["a"]})";
	std::string s2 = R"({"version": "8", "id": "c", "prevIds": ["a"]})";
	std::string s3 = R"({"version": "8", "id": "d", "prevIds": ["b", "c"]})";
	FolderInput in{std::nullopt, {{"20260101000000_a/migration.sql", "A"}, {"20260101000001_b/migration.sql", "B"},
	                              {"20260101000002_c/migration.sql", "C"}, {"20260101000003_d/migration.sql", "D"},
	                              {"20260101000000_a/snapshot.json", s0}, {"20260101000001_b/snapshot.json", s1},
	                              {"20260101000002_c/snapshot.json", s2}}};
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	EXPECT_NE(find(fs, "snapshot.collision"), nullptr) << "two branches from a, not merged yet";
	in.files.emplace_back("20260101000003_d/snapshot.json", s3);
	fs = check_drizzle_snapshots(in, load_folder(in));
	EXPECT_EQ(find(fs, "snapshot.collision"), nullptr) << "d merges b and c";
	EXPECT_TRUE(fs.empty());
}

namespace {
// A drizzle-kit 0.x snapshot declaring tables with the given columns: {"t": {"a", "b"}}.
std::string snap_tables(const char *id, const char *prev, const std::vector<std::pair<std::string, std::vector<std::string>>> &tables) {
	std::string t;
	for (const auto &[name, cols] : tables) {
		std::string c;
		for (const auto &col : cols)
			c += (c.empty() ? "" : ", ") + ("\"" + col + "\": {\"name\": \"" + col + "\", \"type\": \"text\", \"notNull\": false}");
		t += (t.empty() ? "" : ", ") + ("\"public." + name + "\": {\"name\": \"" + name +
		                                "\", \"schema\": \"\", \"columns\": {" + c + "}}");
	}
	return std::string("{\"version\": \"7\", \"id\": \"") + id + "\", \"prevId\": \"" + prev + "\", \"tables\": {" + t + "}}";
}
}  // namespace

TEST(Snapshots, CommutativeBranchesAreAWarning) {
	// b adds table posts, c adds column users.name: either order builds the same schema
	std::string s0 = snap_tables("a", kZeroSnapshotId, {{"users", {"id"}}});
	std::string s1 = snap_tables("b", "a", {{"users", {"id"}}, {"posts", {"id"}}});
	std::string s2 = snap_tables("c", "a", {{"users", {"id", "name"}}});
	FolderInput in = three(s0, s1, s2);
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *c = find(fs, "snapshot.collision");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->severity, Severity::Warning) << c->message;
	EXPECT_FALSE(has_errors(fs));
}

TEST(Snapshots, BranchesTouchingOneObjectAreAnError) {
	// both branches add users.name (with different types in real life): order matters
	std::string s0 = snap_tables("a", kZeroSnapshotId, {{"users", {"id"}}});
	std::string s1 = snap_tables("b", "a", {{"users", {"id", "name"}}});
	std::string s2 = snap_tables("c", "a", {{"users", {"id", "name", "age"}}});
	FolderInput in = three(s0, s1, s2);
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *c = find(fs, "snapshot.collision");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->severity, Severity::Error);
	EXPECT_NE(c->message.find("column public.users.name"), std::string::npos) << c->message;
}

TEST(Snapshots, ABranchWhoseMigrationHasNoStatementsCommutes) {
	// latitude-llm: the second branch's migration is comments only ("No-op metadata migration"), its
	// snapshot records what the first branch's SQL makes: applied in either order, the same schema
	std::string s0 = snap_tables("a", kZeroSnapshotId, {{"users", {"id"}}});
	std::string s1 = snap_tables("b", "a", {{"users", {"id", "name"}}});
	std::string s2 = snap_tables("c", "a", {{"users", {"id", "name", "age"}}});
	FolderInput in{j3, {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}, {"0002_c.sql", "-- No-op metadata migration.\n-- (snapshot only)\n"},
	                    {"meta/0000_snapshot.json", s0}, {"meta/0001_snapshot.json", s1}, {"meta/0002_snapshot.json", s2}}};
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *c = find(fs, "snapshot.collision");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->severity, Severity::Warning) << c->message;
	EXPECT_NE(c->message.find("0002_c.sql has no statements"), std::string::npos) << c->message;
	EXPECT_FALSE(has_errors(fs));
}

TEST(Snapshots, DroppedTableClashesWithItsColumns) {
	std::string s0 = snap_tables("a", kZeroSnapshotId, {{"users", {"id"}}, {"old", {"id"}}});
	std::string s1 = snap_tables("b", "a", {{"users", {"id"}}});                      // drops old
	std::string s2 = snap_tables("c", "a", {{"users", {"id"}}, {"old", {"id", "x"}}});  // adds old.x
	FolderInput in = three(s0, s1, s2);
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *c = find(fs, "snapshot.collision");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->severity, Severity::Error);
	EXPECT_NE(c->message.find("table public.old"), std::string::npos) << c->message;
}

TEST(Snapshots, DanglingPrevIdIsAWarning) {
	std::string s0 = snap("a", "deleted-long-ago"), s1 = snap("b", "a"), s2 = snap("c", "b");
	FolderInput in = three(s0, s1, s2);
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *p = find(fs, "snapshot.prev_missing");
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(p->severity, Severity::Warning);
	EXPECT_FALSE(has_errors(fs));
}

TEST(Snapshots, Drizzle10CommutativeBranchesAreAWarning) {
	std::string s0 = R"({"version": "8", "id": "a", "prevIds": ["00000000-0000-0000-0000-000000000000"], "ddl": [
	  {"entityType": "tables", "schema": "public", "name": "users"}]})";
	std::string s1 = R"({"version": "8", "id": "b", "prevIds": ["a"], "ddl": [
	  {"entityType": "tables", "schema": "public", "name": "users"}, {"entityType": "tables", "schema": "public", "name": "posts"}]})";
	std::string s2 = R"({"version": "8", "id": "c", "prevIds": ["a"], "ddl": [
	  {"entityType": "tables", "schema": "public", "name": "users"},
	  {"entityType": "columns", "schema": "public", "table": "users", "name": "email", "type": "text", "notNull": false}]})";
	FolderInput in{std::nullopt, {{"20260101000000_a/migration.sql", "A"}, {"20260101000001_b/migration.sql", "B"},
	                              {"20260101000002_c/migration.sql", "C"}, {"20260101000000_a/snapshot.json", s0},
	                              {"20260101000001_b/snapshot.json", s1}, {"20260101000002_c/snapshot.json", s2}}};
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *c = find(fs, "snapshot.collision");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->severity, Severity::Warning) << c->message;
}

// issue 17 item 10: two branches both added migration 0002 and the merge kept
// one meta/0002_snapshot.json: no snapshot is missing and none collides, but
// both entries share it.
TEST(Snapshots, TwoEntriesShareOneSnapshot) {
	std::string j = R"({"version": "7", "dialect": "postgresql", "entries": [
 {"idx": 0, "version": "7", "when": 1, "tag": "0000_a", "breakpoints": true},
 {"idx": 1, "version": "7", "when": 2, "tag": "0001_b", "breakpoints": true},
 {"idx": 2, "version": "7", "when": 3, "tag": "0002_c", "breakpoints": true},
 {"idx": 3, "version": "7", "when": 4, "tag": "0002_d", "breakpoints": true}]})";
	std::string s0 = snap("a", kZeroSnapshotId), s1 = snap("b", "a"), s2 = snap("c", "b");
	FolderInput in{j, {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}, {"0002_c.sql", "C"}, {"0002_d.sql", "D"},
	                   {"meta/0000_snapshot.json", s0}, {"meta/0001_snapshot.json", s1}, {"meta/0002_snapshot.json", s2}}};
	auto fs = check_drizzle_snapshots(in, load_folder(in));
	const Finding *f = find(fs, "snapshot.shared");
	ASSERT_NE(f, nullptr);
	EXPECT_EQ(f->severity, Severity::Warning);
	EXPECT_EQ(f->subject, "0002_d");
	EXPECT_NE(f->message.find("0002_c and 0002_d share the snapshot meta/0002_snapshot.json"), std::string::npos)
	    << f->message;
	EXPECT_EQ(find(fs, "snapshot.missing"), nullptr);
	EXPECT_EQ(find(fs, "snapshot.collision"), nullptr);
}

// A byte order mark is found from the bytes alone: `check --offline` reports it too.
TEST(Files, ByteOrderMarksAreFoundWithoutTheServer) {
	FolderInput in{j3, {{"0000_a.sql", "\xEF\xBB\xBF" "CREATE TABLE a (id int);"},
	                    {"0001_b.sql", "CREATE TABLE b (id int);\n--> statement-breakpoint\n\xEF\xBB\xBF" "CREATE TABLE c (id int);"},
	                    {"0002_c.sql", "SELECT 1;"}}};
	auto fs = check_files(load_folder(in));
	size_t boms = 0;
	for (const auto &f : fs)
		if (f.code == "migration.bom") {
			++boms;
			EXPECT_EQ(f.severity, Severity::Warning);
			if (f.subject == "0001_b") {
				EXPECT_NE(f.message.find("0001_b.sql (line 3)"), std::string::npos) << f.message;
			}
		}
	EXPECT_EQ(boms, 2u);
}
