#include <gtest/gtest.h>

#include "core/text.hpp"

using namespace dbkit::core;

TEST(Split, PlainSubstringLikeDrizzle) {
	auto chunks = split_breakpoints("A;--> statement-breakpoint\nB;\n--> statement-breakpoint\nC");
	ASSERT_EQ(chunks.size(), 3u);
	EXPECT_EQ(chunks[0].text, "A;");
	EXPECT_EQ(chunks[1].text, "\nB;\n");
	EXPECT_EQ(chunks[1].offset, 26u);
	EXPECT_EQ(chunks[2].text, "\nC");
}

TEST(Split, NoMarkerIsOneChunk) {
	auto chunks = split_breakpoints("CREATE TABLE a(); CREATE TABLE b();");
	ASSERT_EQ(chunks.size(), 1u);
	EXPECT_EQ(chunks[0].offset, 0u);
}

TEST(Text, LinesAndComments) {
	std::string_view t = "a\nb\r\nc";
	EXPECT_EQ(line_at(t, 0), 1);
	EXPECT_EQ(line_at(t, 2), 2);
	EXPECT_EQ(line_at(t, 5), 3);
	std::string_view sql = "  -- note\n/* a /* nested */ b */\n  SELECT 1";
	EXPECT_EQ(sql.substr(skip_space_and_comments(sql, 0)), "SELECT 1");
	EXPECT_TRUE(blank_sql(" -- only a comment\n\n"));
	EXPECT_FALSE(blank_sql(" -- c\n;"));
}

TEST(Text, CharPositionsAreNotBytes) {
	std::string_view s = "SELECT '\xc5\xbc\xc3\xb3\xc5\x82w'; SELEC";
	// character 16 is the 'S' of SELEC; it sits 3 bytes later than 16 because of the 2-byte letters
	EXPECT_EQ(s.substr(byte_offset_of_char(s, 16), 5), "SELEC");
}

TEST(Text, Utf8Validation) {
	size_t bad = 0;
	EXPECT_TRUE(valid_utf8("plain \xef\xbb\xbf BOM and \xf0\x9f\x98\x80", &bad));
	EXPECT_FALSE(valid_utf8("ab\xff", &bad));
	EXPECT_EQ(bad, 2u);
	EXPECT_FALSE(valid_utf8(std::string_view("a\0b", 3), &bad));
	EXPECT_EQ(bad, 1u);
	EXPECT_FALSE(valid_utf8("\xc0\xaf", &bad));          // overlong
	EXPECT_FALSE(valid_utf8("\xed\xa0\x80", &bad));      // surrogate
	EXPECT_FALSE(valid_utf8("\xe2\x82", &bad));          // truncated
}

TEST(Text, LeadingBomIsSkippedStrayBomIsFound) {
	std::string sql = "\xEF\xBB\xBF" "CREATE TABLE a();--> statement-breakpoint\nCREATE TABLE b();";
	auto chunks = split_breakpoints(sql);
	ASSERT_EQ(chunks.size(), 2u);
	EXPECT_EQ(chunks[0].offset, 3u);
	EXPECT_EQ(chunks[0].text, "CREATE TABLE a();");
	EXPECT_EQ(stray_bom(sql), 0u);
	std::string joined = "CREATE TABLE a();--> statement-breakpoint\n\xEF\xBB\xBF" "CREATE TABLE b();";
	EXPECT_EQ(split_breakpoints(joined)[0].offset, 0u);
	EXPECT_EQ(stray_bom(joined), joined.find("\xEF"));
}
