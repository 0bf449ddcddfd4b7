// core::may_hold_password / secret_bearing_command: what the DDL audit does not keep
// (found by an attack: user mappings' and subscriptions' passwords, readable by pg_monitor).
#include <gtest/gtest.h>

#include "core/secrets.hpp"

using namespace dbkit::core;

TEST(Secrets, PasswordsInText) {
	EXPECT_TRUE(may_hold_password("CREATE USER MAPPING FOR app SERVER s OPTIONS (user 'ro', password 'S3cr3t')"));
	EXPECT_TRUE(may_hold_password("CREATE SUBSCRIPTION s CONNECTION 'host=db2 password=x' PUBLICATION p"));
	EXPECT_TRUE(may_hold_password("CREATE TABLE t (id int); ALTER ROLE app PASSWORD 'x'"));
	EXPECT_TRUE(may_hold_password("alter role app with password E'x'"));
	EXPECT_FALSE(may_hold_password("CREATE TABLE users (\"password\" text, password_hash text)"));
	EXPECT_FALSE(may_hold_password("ALTER TABLE users ADD COLUMN password text NOT NULL"));
	EXPECT_FALSE(may_hold_password("COMMENT ON COLUMN users.password IS 'bcrypt'"));
}

TEST(Secrets, Commands) {
	EXPECT_TRUE(secret_bearing_command("CREATE USER MAPPING"));
	EXPECT_TRUE(secret_bearing_command("ALTER SUBSCRIPTION"));
	EXPECT_FALSE(secret_bearing_command("CREATE TABLE"));
}
