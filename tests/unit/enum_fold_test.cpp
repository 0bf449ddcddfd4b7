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
