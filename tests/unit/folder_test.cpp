#include <gtest/gtest.h>

#include <algorithm>

#include "core/folder.hpp"

using namespace dbkit::core;

namespace {

std::string journal(const std::string &entries, const std::string &version = "7", const std::string &dialect = "postgresql") {
	return R"({"version": ")" + version + R"(", "dialect": ")" + dialect + R"(", "entries": [)" + entries + "]}";
}
std::string entry(int idx, long long when, const std::string &tag) {
	return "{\"idx\": " + std::to_string(idx) + ", \"version\": \"7\", \"when\": " + std::to_string(when) +
	       ", \"tag\": \"" + tag + "\", \"breakpoints\": true}";
}
bool has(const Folder &f, const std::string &code) {
	return std::any_of(f.findings.begin(), f.findings.end(), [&](const Finding &x) { return x.code == code; });
}

}  // namespace

TEST(Folder, JournalInOrderWithFiles) {
	std::string j = journal(entry(0, 10, "0000_a") + "," + entry(1, 20, "0001_b"));
	FolderInput in{j, {{"0001_b.sql", "B"}, {"0000_a.sql", "A"}}};
	Folder f = load_folder(in);
	EXPECT_TRUE(f.findings.empty());
	ASSERT_EQ(f.migrations.size(), 2u);
	EXPECT_EQ(f.migrations[0].tag, "0000_a");
	EXPECT_EQ(f.migrations[0].sql, "A");
	EXPECT_EQ(f.migrations[1].when, 20);
	EXPECT_EQ(f.layout, Folder::Layout::Journal);
}

TEST(Folder, OldPgDialectAccepted) {
	std::string j = journal(entry(0, 1, "0000_a"), "5", "pg");
	Folder f = load_folder(FolderInput{j, {{"0000_a.sql", "A"}}});
	EXPECT_TRUE(f.findings.empty());
}

TEST(Folder, EveryJournalProblemHasItsCode) {
	struct Case {
		std::string journal;
		std::vector<std::pair<std::string_view, std::string_view>> files;
		const char *code;
	} cases[] = {
	    {"{ \"version\": ", {}, "journal.malformed_json"},
	    {"[]", {}, "journal.not_object"},
	    {R"({"dialect": "postgresql", "entries": []})", {}, "journal.version_missing"},
	    {journal("", "8"), {}, "journal.version_unsupported"},
	    {R"({"version": "7", "entries": []})", {}, "journal.dialect_missing"},
	    {journal("", "7", "sqlite"), {}, "journal.dialect_unsupported"},
	    {R"({"version": "7", "dialect": "postgresql"})", {}, "journal.entries_missing"},
	    {journal("1"), {}, "journal.entry_invalid"},
	    {journal(R"({"idx": 0, "tag": "0000_a", "breakpoints": true})"), {{"0000_a.sql", "A"}}, "journal.entry_field_missing"},
	    {journal(R"({"idx": 0, "when": 1.5, "tag": "0000_a", "breakpoints": true})"), {{"0000_a.sql", "A"}}, "journal.entry_field_type"},
	    {journal(entry(0, 1, "../a")), {}, "journal.tag_invalid"},
	    {journal(entry(0, 1, "0000_a") + "," + entry(0, 2, "0001_b")), {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}}, "journal.idx_duplicate"},
	    {journal(entry(0, 1, "0000_a") + "," + entry(5, 2, "0001_b")), {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}}, "journal.idx_not_contiguous"},
	    {journal(entry(0, 1, "0000_a") + "," + entry(1, 2, "0000_a")), {{"0000_a.sql", "A"}}, "journal.tag_duplicate"},
	    {journal(entry(0, 5, "0000_a") + "," + entry(1, 2, "0001_b")), {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}}, "journal.when_not_increasing"},
	    {journal(entry(0, 1, "0000_a")), {}, "journal.file_missing"},
	    {journal(entry(0, 1, "0000_a")), {{"0000_a.sql", "A"}, {"0001_x.sql", "X"}}, "folder.file_unlisted"},
	    {journal(entry(0, 1, "0000_a")), {{"0000_a.sql", "A"}, {"20261125221325_x/migration.sql", "X"}}, "folder.both_layouts"},
	};
	for (const auto &c : cases) {
		Folder f = load_folder(FolderInput{c.journal, c.files});
		EXPECT_TRUE(has(f, c.code)) << c.code << " for " << c.journal;
	}
}

// A journal whose numbering skips once (idx 0, 1, 3, 4, 5: an entry deleted) is warned about
// once, at the gap, not once for every entry after it (a real folder printed 269).
TEST(Folder, OneIdxGapIsOneWarning) {
	std::string entries = entry(0, 1, "0000_a") + "," + entry(1, 2, "0001_b") + "," + entry(3, 3, "0003_d") + "," +
	                      entry(4, 4, "0004_e") + "," + entry(5, 5, "0005_f");
	Folder f = load_folder(FolderInput{journal(entries), {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}, {"0003_d.sql", "D"},
	                                                      {"0004_e.sql", "E"}, {"0005_f.sql", "F"}}});
	std::vector<std::string> at;
	for (const auto &x : f.findings)
		if (x.code == "journal.idx_not_contiguous")
			at.push_back(x.subject);
	EXPECT_EQ(at, std::vector<std::string>{"0003_d"});
	// and a journal that starts above 0 is told at its first entry
	Folder g = load_folder(FolderInput{journal(entry(1, 1, "0001_b") + "," + entry(2, 2, "0002_c")),
	                                   {{"0001_b.sql", "B"}, {"0002_c.sql", "C"}}});
	int n = 0;
	for (const auto &x : g.findings)
		n += x.code == "journal.idx_not_contiguous";
	EXPECT_EQ(n, 1);
}

TEST(Folder, MalformedJournalNamesLineAndColumn) {
	std::string j = "{\n  \"version\": \"7\"\n  \"dialect\": \"pg\"}";
	Folder f = load_folder(FolderInput{j, {}});
	ASSERT_FALSE(f.findings.empty());
	EXPECT_NE(f.findings[0].message.find("line 3, column 3"), std::string::npos) << f.findings[0].message;
}

TEST(Folder, SqlWithoutJournal) {
	Folder f = load_folder(FolderInput{std::nullopt, {{"0000_a.sql", "A"}}});
	EXPECT_TRUE(has(f, "journal.missing"));
}

TEST(Folder, FoldersLayoutSortsByName) {
	Folder f = load_folder(FolderInput{std::nullopt,
	                                   {{"20261125221400_b/migration.sql", "B"}, {"20261125221325_a/migration.sql", "A"}}});
	EXPECT_TRUE(f.findings.empty());
	ASSERT_EQ(f.migrations.size(), 2u);
	EXPECT_EQ(f.migrations[0].tag, "20261125221325_a");
	EXPECT_EQ(f.migrations[0].file, "20261125221325_a/migration.sql");
	EXPECT_EQ(f.migrations[1].idx, 1);
	EXPECT_EQ(f.layout, Folder::Layout::Folders);
}

TEST(Folder, FolderNameMillisIsUtc) {
	EXPECT_EQ(folder_name_millis("19700101000001_x"), 1000);
	EXPECT_EQ(folder_name_millis("20261125221325_calm"), 1795644805000);
	EXPECT_FALSE(folder_name_millis("2026112522132_x"));
	EXPECT_FALSE(folder_name_millis("20261325221325_x"));
	Folder f = load_folder(FolderInput{std::nullopt, {{"x_y/migration.sql", "A"}}});
	EXPECT_TRUE(has(f, "folder.name_invalid"));
}

TEST(Folder, TagSafety) {
	EXPECT_TRUE(tag_is_safe("0000_initial"));
	EXPECT_TRUE(tag_is_safe("20261125221207_x"));
	EXPECT_FALSE(tag_is_safe(""));
	EXPECT_FALSE(tag_is_safe("a/b"));
	EXPECT_FALSE(tag_is_safe(".."));
	EXPECT_FALSE(tag_is_safe("a\\b"));
	EXPECT_FALSE(tag_is_safe(std::string("a\nb")));
}

// issue 17 item 10: the `when` warning names the entry that holds the largest
// `when` so far, not merely the previous entry.
TEST(Folder, WhenWarningNamesTheEntryWithTheLargerWhen) {
	std::string j = journal(entry(0, 1000, "0000_a") + "," + entry(1, 3000, "0001_b") + "," + entry(2, 2000, "0002_c") +
	                        "," + entry(3, 2500, "0003_d"));
	Folder f = load_folder(FolderInput{j, {{"0000_a.sql", "A"}, {"0001_b.sql", "B"}, {"0002_c.sql", "C"}, {"0003_d.sql", "D"}}});
	std::vector<const Finding *> w;
	for (const auto &x : f.findings)
		if (x.code == "journal.when_not_increasing")
			w.push_back(&x);
	ASSERT_EQ(w.size(), 2u);
	EXPECT_EQ(w[1]->subject, "0003_d");
	EXPECT_NE(w[1]->message.find("\"0001_b\" (3000)"), std::string::npos) << w[1]->message;
	EXPECT_EQ(w[1]->message.find("0002_c"), std::string::npos) << w[1]->message;
}

TEST(Folder, JournalDownFilesBelongToTheirMigration) {
	std::string j = journal(entry(0, 10, "0000_a") + "," + entry(1, 20, "0001_b"));
	FolderInput in{j, {{"0000_a.sql", "A"}, {"0000_a.down.sql", "DOWN A"}, {"0001_b.sql", "B"}}};
	Folder f = load_folder(in);
	EXPECT_TRUE(f.findings.empty()) << f.findings.front().code;  // a down file is neither a migration nor unlisted
	ASSERT_EQ(f.migrations.size(), 2u);
	ASSERT_TRUE(f.migrations[0].down_sql);
	EXPECT_EQ(*f.migrations[0].down_sql, "DOWN A");
	EXPECT_EQ(f.migrations[0].down_file, "0000_a.down.sql");
	EXPECT_FALSE(f.migrations[1].down_sql);
	EXPECT_TRUE(f.migrations[1].down_file.empty());
}

TEST(Folder, JournalDownFileOfNoMigrationIsAWarning) {
	std::string j = journal(entry(0, 10, "0000_a"));
	Folder f = load_folder(FolderInput{j, {{"0000_a.sql", "A"}, {"0009_gone.down.sql", "X"}}});
	EXPECT_TRUE(has(f, "folder.down_unmatched"));
	EXPECT_FALSE(has(f, "folder.file_unlisted"));
	ASSERT_EQ(f.migrations.size(), 1u);
}

TEST(Folder, JournalTagEndingInDownKeepsItsUpFile) {
	std::string j = journal(entry(0, 10, "0000_x.down"));
	Folder f = load_folder(FolderInput{j, {{"0000_x.down.sql", "UP"}}});
	EXPECT_TRUE(f.findings.empty());
	ASSERT_EQ(f.migrations.size(), 1u);
	EXPECT_EQ(f.migrations[0].sql, "UP");
	EXPECT_FALSE(f.migrations[0].down_sql);
}

TEST(Folder, FoldersLayoutDownSql) {
	Folder f = load_folder(FolderInput{std::nullopt,
	                                   {{"20261125221325_a/migration.sql", "A"},
	                                    {"20261125221325_a/down.sql", "DA"},
	                                    {"20261125221400_b/migration.sql", "B"},
	                                    {"20261125221500_c/down.sql", "orphan"}}});
	ASSERT_EQ(f.migrations.size(), 2u);
	ASSERT_TRUE(f.migrations[0].down_sql);
	EXPECT_EQ(*f.migrations[0].down_sql, "DA");
	EXPECT_EQ(f.migrations[0].down_file, "20261125221325_a/down.sql");
	EXPECT_FALSE(f.migrations[1].down_sql);
	EXPECT_TRUE(has(f, "folder.down_unmatched"));
}

TEST(Folder, IsDownFile) {
	EXPECT_TRUE(is_down_file("0001_a.down.sql"));
	EXPECT_FALSE(is_down_file("0001_a.sql"));
	EXPECT_FALSE(is_down_file(".down.sql"));
	EXPECT_FALSE(is_down_file("x/0001_a.down.sql"));
}
