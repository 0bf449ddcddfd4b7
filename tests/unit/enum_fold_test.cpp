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
