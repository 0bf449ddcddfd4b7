#include <gtest/gtest.h>

#include "core/json.hpp"

using dbkit::core::JsonError;
using dbkit::core::JsonValue;
using dbkit::core::parse_json;

TEST(Json, ParsesJournalShapes) {
	JsonValue v;
	JsonError e;
	ASSERT_TRUE(parse_json(R"({"a": [1, -2, 3.5, 1795644710027], "b": "x\u00e9\n", "c": true, "d": null})", v, e));
	ASSERT_EQ(v.kind, JsonValue::Kind::Object);
	const JsonValue *a = v.find("a");
	ASSERT_NE(a, nullptr);
	ASSERT_EQ(a->items.size(), 4u);
	EXPECT_TRUE(a->items[0].is_integer);
	EXPECT_EQ(a->items[1].integer, -2);
	EXPECT_FALSE(a->items[2].is_integer);
	EXPECT_EQ(a->items[3].integer, 1795644710027);
	EXPECT_EQ(v.find("b")->string, "x\xc3\xa9\n");
	EXPECT_TRUE(v.find("c")->boolean);
	EXPECT_EQ(v.find("d")->kind, JsonValue::Kind::Null);
}

TEST(Json, ReportsLineAndColumn) {
	JsonValue v;
	JsonError e;
	ASSERT_FALSE(parse_json("{\n  \"a\": 1\n  \"b\": 2\n}", v, e));
	EXPECT_EQ(e.line, 3);
	EXPECT_EQ(e.column, 3);
	EXPECT_NE(e.message.find("','"), std::string::npos);
}

TEST(Json, RejectsBadInput) {
	JsonValue v;
	JsonError e;
	for (const char *bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "\"\\u0000\"", "\"\\ud800\"", "tru", "{} x",
	                        "\"a\nb\"", "1.", "-"}) {
		EXPECT_FALSE(parse_json(bad, v, e)) << bad;
		EXPECT_FALSE(e.message.empty()) << bad;
	}
}

TEST(Json, BoundsNesting) {
	JsonValue v;
	JsonError e;
	std::string deep(100000, '[');
	EXPECT_FALSE(parse_json(deep, v, e));
	EXPECT_NE(e.message.find("deeply"), std::string::npos);
}

TEST(Json, QuotesWhatItParses) {
	EXPECT_EQ(dbkit::core::json_quote("a\"b\\c\n\t\x01"), R"("a\"b\\c\n\t\u0001")");
	std::string text = "CREATE TABLE \"t\" (\n\t\"x\" text DEFAULT 'a\\b'\x1f\x08);\r\n-- caf\xc3\xa9 \xe2\x82\xac";
	std::string quoted;
	dbkit::core::append_json_quoted(quoted, text);
	JsonValue v;
	JsonError e;
	ASSERT_TRUE(parse_json(quoted, v, e)) << e.message;
	ASSERT_EQ(v.kind, JsonValue::Kind::String);
	EXPECT_EQ(v.string, text);
}
