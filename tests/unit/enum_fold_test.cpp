// core/enum_fold: the labels a CREATE TYPE gets when the shadow folds later ADD VALUEs into it.
#include <gtest/gtest.h>

#include "core/enum_fold.hpp"

using dbkit::core::EnumAdd;
using dbkit::core::fold_enum_labels;

TEST(EnumFold, AppendsBeforeAndAfter) {
	auto l = fold_enum_labels({"a", "b"}, {EnumAdd{"c", std::nullopt}, EnumAdd{"x", std::string("b"), true},
	                                       EnumAdd{"y", std::string("a"), false}});
	ASSERT_TRUE(l);
	EXPECT_EQ((std::vector<std::string>{"a", "y", "x", "b", "c"}), *l);
}

TEST(EnumFold, IfNotExistsSkipsAnExistingValue) {
	auto l = fold_enum_labels({"a"}, {EnumAdd{"a", std::nullopt, false, true}});
	ASSERT_TRUE(l);
	EXPECT_EQ(std::vector<std::string>{"a"}, *l);
}

TEST(EnumFold, WhatWouldFailIsNotFolded) {
	EXPECT_FALSE(fold_enum_labels({"a"}, {EnumAdd{"a", std::nullopt}}));              // exists, no IF NOT EXISTS
	EXPECT_FALSE(fold_enum_labels({"a"}, {EnumAdd{"b", std::string("nope"), true}}));  // no such neighbour
}

// drizzle-kit before 0.30 wrote each enum inside a DO block that swallows duplicate_object.
TEST(EnumFold, TheEnumOfADoBlockAsDrizzleKitWroteIt) {
	auto c = dbkit::core::enum_in_do_block(" BEGIN\n CREATE TYPE \"public\".\"status\" AS ENUM('a', 'b;c');\nEXCEPTION\n WHEN "
	                          "duplicate_object THEN null;\nEND ");
	ASSERT_TRUE(c.has_value());
	EXPECT_EQ("CREATE TYPE \"public\".\"status\" AS ENUM('a', 'b;c')", *c);
	EXPECT_TRUE(dbkit::core::enum_in_do_block("begin create type s as enum ('x'); exception when duplicate_object then null; end;"));
	// anything else in the block: not this pattern, run as written
	EXPECT_FALSE(dbkit::core::enum_in_do_block("BEGIN CREATE TYPE s AS ENUM ('x'); ALTER TYPE s ADD VALUE 'y'; EXCEPTION WHEN "
	                              "duplicate_object THEN null; END"));
	EXPECT_FALSE(dbkit::core::enum_in_do_block("BEGIN CREATE TYPE s AS (a int); EXCEPTION WHEN duplicate_object THEN null; END"));
	EXPECT_FALSE(dbkit::core::enum_in_do_block("BEGIN CREATE TYPE s AS ENUM ('x'); EXCEPTION WHEN others THEN null; END"));
	EXPECT_FALSE(dbkit::core::enum_in_do_block("BEGIN PERFORM 1; END"));
}

TEST(EnumFold, TheStatementOfADoBlock) {
	auto body = dbkit::core::do_block_body("DO $$ BEGIN\n ALTER TABLE \"m\" ADD CONSTRAINT \"fk\" FOREIGN KEY (\"a\") "
	                                       "REFERENCES \"u\"(\"id\");\nEXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;");
	ASSERT_TRUE(body.has_value());
	auto st = dbkit::core::statement_in_do_block(*body);
	ASSERT_TRUE(st.has_value());
	EXPECT_EQ("ALTER TABLE \"m\" ADD CONSTRAINT \"fk\" FOREIGN KEY (\"a\") REFERENCES \"u\"(\"id\")", *st);
	EXPECT_TRUE(dbkit::core::do_block_body("do language plpgsql $x$ begin perform 1; end $x$"));
	EXPECT_FALSE(dbkit::core::do_block_body("CREATE TABLE t (id int)"));
	EXPECT_FALSE(dbkit::core::statement_in_do_block("BEGIN PERFORM 1; END"));
	// an enum's block is a statement's block too; a foreign key's is not an enum's
	EXPECT_FALSE(dbkit::core::enum_in_do_block(*body));
}
