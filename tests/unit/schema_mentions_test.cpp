// core::add_schema_mentions: the schemas SQL names (x.y) and what it creates, the
// shadow's first guess at the environment's schemas (Supabase's auth).
#include <gtest/gtest.h>

#include "core/schema_mentions.hpp"

using namespace dbkit::core;

TEST(SchemaMentions, NamedCreatedAndMadeThere) {
	SchemaMentions m;
	add_schema_mentions(R"SQL(
CREATE TABLE "profiles" ("id" uuid REFERENCES "auth"."users"("id"));
CREATE POLICY p ON profiles USING ((select auth.uid()) = id);
-- a comment naming nope.x is not a use
SELECT 'in a literal: also.not';
DO $$ BEGIN ALTER TABLE "posts" ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES "Storage"."objects"(id); END $$;
CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE app.events (id int);
CREATE OR REPLACE FUNCTION auth.hook() RETURNS trigger AS $f$ BEGIN RETURN new; END $f$ LANGUAGE plpgsql;
CREATE UNIQUE INDEX IF NOT EXISTS i ON auth.users (email);
SELECT 1.5;
)SQL",
	                    m);
	EXPECT_TRUE(m.named.count("auth"));
	EXPECT_TRUE(m.named.count("Storage"));  // quoted: as written
	EXPECT_TRUE(m.named.count("app"));
	EXPECT_FALSE(m.named.count("nope"));
	EXPECT_FALSE(m.named.count("also"));
	EXPECT_EQ(std::set<std::string>{"app"}, m.created);
	EXPECT_EQ(std::set<std::string>{"events"}, m.objects["app"]);
	EXPECT_EQ(std::set<std::string>{"hook"}, m.objects["auth"]);  // the index is named, not qualified
}

// What a stand-in must hold: only what the sources use there and do not make (an attack:
// 2,000 tables of auth copied for one foreign key ran the lock table out).
TEST(SchemaMentions, UsedNotMade) {
	SchemaMentions m;
	add_schema_mentions(R"SQL(
CREATE TABLE "profiles" ("id" uuid REFERENCES "auth"."users"("id"));
CREATE POLICY p ON profiles USING ((select auth.uid()) = id);
CREATE OR REPLACE FUNCTION auth.hook() RETURNS trigger AS $f$ BEGIN RETURN new; END $f$ LANGUAGE plpgsql;
CREATE TRIGGER t AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION auth.hook();
)SQL",
	                    m);
	EXPECT_EQ((std::set<std::string>{"uid", "users"}), used_not_made(m, "auth"));
	EXPECT_TRUE(used_not_made(m, "storage").empty());
}

// CREATE SCHEMA IF NOT EXISTS guards a platform's schema as often as it makes the folder's
// own: told apart from a plain CREATE SCHEMA, in any order of the files.
TEST(SchemaMentions, CreatedIfAbsent) {
	SchemaMentions m;
	add_schema_mentions("CREATE SCHEMA IF NOT EXISTS \"auth\"; CREATE SCHEMA IF NOT EXISTS app;", m);
	add_schema_mentions("CREATE SCHEMA app; CREATE SCHEMA own; CREATE SCHEMA IF NOT EXISTS own;", m);
	EXPECT_EQ((std::set<std::string>{"auth"}), m.created_if_absent);
	EXPECT_EQ((std::set<std::string>{"app", "auth", "own"}), m.created);
}

// A schema the sources rename is theirs under its new name (eikona-io/api's 0008).
TEST(SchemaMentions, RenamedSchemaIsCreated) {
	SchemaMentions m;
	add_schema_mentions("CREATE SCHEMA \"comfy_deploy\";\nCREATE TABLE \"comfy_deploy\".\"apps\" (id int);", m);
	add_schema_mentions("ALTER SCHEMA \"comfy_deploy\" RENAME TO \"comfyui_deploy\";\n"
	                    "ALTER TABLE \"comfyui_deploy\".\"apps\" ADD COLUMN \"x\" text;",
	                    m);
	EXPECT_TRUE(m.created.count("comfyui_deploy"));
	EXPECT_TRUE(m.created.count("comfy_deploy"));
}
