#include <gtest/gtest.h>

#include "core/transaction_shape.hpp"

using namespace dbkit::core;

namespace {
TxStatement st(TxKind k = TxKind::None, bool top = false) {
	TxStatement s;
	s.kind = k;
	s.needs_top_level = top;
	return s;
}
const TxStatement kPlain = st();
const TxStatement kBegin = st(TxKind::Begin);
const TxStatement kCommit = st(TxKind::Commit);
}  // namespace

TEST(TransactionShape, NoControlIsPlain) {
	EXPECT_EQ(transaction_shape({kPlain, kPlain}).mode, TxShape::Mode::Plain);
}

TEST(TransactionShape, WholeFileWrappedRunsAsOneTransaction) {
	TxShape s = transaction_shape({kBegin, kPlain, kPlain, kCommit});
	EXPECT_EQ(s.mode, TxShape::Mode::Wrapped);
	EXPECT_NE(s.summary.find("one transaction"), std::string::npos);
}

TEST(TransactionShape, BeginWithOptionsIsHonouredAsABlock) {
	TxStatement b = kBegin;
	b.begin_options = true;
	EXPECT_EQ(transaction_shape({b, kPlain, kCommit}).mode, TxShape::Mode::Blocks);
}

TEST(TransactionShape, CommitAfterAddValueRunsStatementByStatement) {
	// ALTER TYPE ... ADD VALUE; COMMIT; INSERT ... the value
	TxShape s = transaction_shape({kPlain, kCommit, kPlain});
	ASSERT_EQ(s.mode, TxShape::Mode::Blocks);
	EXPECT_EQ(s.roles, (std::vector<TxRole>{TxRole::Alone, TxRole::StrayCommit, TxRole::Alone}));
}

TEST(TransactionShape, SeveralBlocksKeepTheirBoundaries) {
	TxShape s = transaction_shape({kBegin, kPlain, kCommit, kPlain, kBegin, kPlain, kPlain, kCommit});
	ASSERT_EQ(s.mode, TxShape::Mode::Blocks);
	EXPECT_EQ(s.roles, (std::vector<TxRole>{TxRole::Begin, TxRole::InBlock, TxRole::Commit, TxRole::Alone,
	                                        TxRole::Begin, TxRole::InBlock, TxRole::InBlock, TxRole::Commit}));
	EXPECT_NE(s.summary.find("2 BEGIN ... COMMIT blocks"), std::string::npos);
}

TEST(TransactionShape, WrappedButCommittedTwiceIsBlocks) {
	EXPECT_EQ(transaction_shape({kBegin, kPlain, kCommit, kCommit}).mode, TxShape::Mode::Blocks);
}

TEST(TransactionShape, WhatCannotBeHonouredIsRefusedAtItsStatement) {
	for (TxKind k : {TxKind::Rollback, TxKind::Savepoint, TxKind::Release, TxKind::RollbackTo, TxKind::TwoPhase,
	                 TxKind::Chain}) {
		TxShape s = transaction_shape({kBegin, kPlain, st(k), kCommit});
		EXPECT_EQ(s.mode, TxShape::Mode::Refused) << tx_kind_name(k);
		EXPECT_EQ(s.at, 2u) << tx_kind_name(k);
		EXPECT_FALSE(s.why.empty());
	}
}

TEST(TransactionShape, UnclosedOrNestedBeginIsRefused) {
	TxShape open = transaction_shape({kPlain, kBegin, kPlain});
	EXPECT_EQ(open.mode, TxShape::Mode::Refused);
	EXPECT_EQ(open.at, 1u);
	TxShape nested = transaction_shape({kBegin, kBegin, kPlain, kCommit});
	EXPECT_EQ(nested.mode, TxShape::Mode::Refused);
	EXPECT_EQ(nested.at, 1u);
}

TEST(TransactionShape, TopLevelStatementInsideABlockIsRefused) {
	TxShape s = transaction_shape({kBegin, st(TxKind::None, true), kCommit});
	EXPECT_EQ(s.mode, TxShape::Mode::Refused);
	EXPECT_EQ(s.at, 1u);
	// outside a block it is fine: the file runs statement by statement
	EXPECT_EQ(transaction_shape({kPlain, kCommit, st(TxKind::None, true)}).mode, TxShape::Mode::Blocks);
}
