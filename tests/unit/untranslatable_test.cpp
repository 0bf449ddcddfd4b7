#include <gtest/gtest.h>

#include "untranslatable.hpp"

using namespace dbkit::client;

TEST(Untranslatable, ReadsTheByteSequence) {
	EXPECT_EQ(untranslatable_bytes("character with byte sequence 0xf0 0x9f 0x9a 0x80 in encoding \"UTF8\" has no "
	                               "equivalent in encoding \"LATIN1\""),
	          "\xf0\x9f\x9a\x80");
	EXPECT_EQ(untranslatable_bytes("invalid byte sequence for encoding \"UTF8\": 0xff"), "");
}

TEST(Untranslatable, NamesFileLineAndColumn) {
	std::string payload = R"({"journal":"{}","files":{"0000_ok.sql":"CREATE TABLE \"café\" ();","0001_x.sql":"SELECT 1;\n-- déploy 🚀\nSELECT 2;"}})";
	auto found = find_untranslatable(payload, "\xf0\x9f\x9a\x80");
	ASSERT_EQ(found.size(), 1u);
	EXPECT_EQ(found[0].file, "0001_x.sql");
	EXPECT_EQ(found[0].line, 2);
	EXPECT_EQ(found[0].column, 11);  // characters, not bytes: é is one
	EXPECT_FALSE(found[0].bom);
}

TEST(Untranslatable, EveryFileThatHasIt) {
	std::string payload = "{\"journal\":\"{}\",\"files\":{\"a.sql\":\"\xef\xbb\xbfSELECT 1;\",\"b.sql\":\"SELECT 2; -- \xef\xbb\xbf\"}}";
	auto found = find_untranslatable(payload, "\xef\xbb\xbf");
	ASSERT_EQ(found.size(), 2u);
	EXPECT_TRUE(found[0].bom);
	EXPECT_FALSE(found[1].bom);  // not at the start: a character like any other
}

TEST(Untranslatable, TheErrorIsRewritten) {
	dbkit::client::ServerError err;
	err.sqlstate = "22P05";
	err.message = "character with byte sequence 0xe2 0x82 0xac in encoding \"UTF8\" has no equivalent in encoding "
	              "\"LATIN1\"";
	err.context = "unnamed portal parameter $1";
	explain_untranslatable(err, {"x", "{\"files\":{\"0003_price.sql\":\"SELECT '\xe2\x82\xac';\"}}"});
	EXPECT_NE(err.message.find("0003_price.sql, line 1, column 9"), std::string::npos) << err.message;
	EXPECT_NE(err.message.find("LATIN1"), std::string::npos);
	EXPECT_NE(err.hint.find("Nothing was applied"), std::string::npos);
	EXPECT_TRUE(err.context.empty());
}

TEST(Untranslatable, NotAPayloadLeavesTheErrorAlone) {
	dbkit::client::ServerError err;
	err.message = "character with byte sequence 0xe2 0x82 0xac in encoding \"UTF8\" has no equivalent in encoding "
	              "\"LATIN1\"";
	explain_untranslatable(err, {"no such bytes"});
	EXPECT_EQ(err.context, "");
	EXPECT_EQ(err.message.rfind("character with", 0), 0u);
}
