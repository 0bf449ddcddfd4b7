#include <gtest/gtest.h>

#include "core/lock_holder.hpp"

using namespace dbkit::core;

namespace {
const std::string kWorker = "pid 812 " + settle_worker_holder_mark() +
                            " user postgres, connected since 2026-12-02 11:00:00 UTC, active for 00:00:00): SELECT 1";
const std::string kSession = "pid 77 (user deploy, application dbkit reference re-read, client local, "
                             "connected since 2026-12-02 11:00:00 UTC, idle for 00:00:03)";
}  // namespace

TEST(LockHolder, TheWorkerAloneIsTheWorker) {
	EXPECT_TRUE(only_settle_worker(kWorker));
	EXPECT_TRUE(only_settle_worker(kWorker + "\n" + kWorker));
}

TEST(LockHolder, ASessionNamedLikeTheWorkerIsNot) {
	// any session can take the worker's application name; only the server's backend type marks it
	EXPECT_FALSE(only_settle_worker(kSession));
	EXPECT_FALSE(only_settle_worker(kWorker + "\n" + kSession));
	EXPECT_FALSE(only_settle_worker(kSession + "\n" + kWorker));
}

TEST(LockHolder, NothingHeldOrMalformedIsNotTheWorker) {
	EXPECT_FALSE(only_settle_worker(""));
	EXPECT_FALSE(only_settle_worker("pid " + settle_worker_holder_mark()));
	EXPECT_FALSE(only_settle_worker("pid x " + settle_worker_holder_mark()));
	EXPECT_FALSE(only_settle_worker(kWorker + "\n"));
	EXPECT_FALSE(only_settle_worker(" " + kWorker));
}

TEST(LockHolder, ANameCannotStartALineOfItsOwn) {
	// a role named with a newline and the worker's line after it
	std::string forged = "x\npid 1 " + settle_worker_holder_mark();
	EXPECT_EQ(holder_field(forged).find('\n'), std::string::npos);
	EXPECT_EQ(holder_field("a\tb\x7f"), "a?b?");
	EXPECT_EQ(holder_field("émilie"), "émilie");
	EXPECT_FALSE(only_settle_worker("pid 9 (user " + holder_field(forged) + ", application psql, client local)"));
}
