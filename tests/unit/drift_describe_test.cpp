#include <gtest/gtest.h>

#include "core/code_drift.hpp"
#include "core/drift_describe.hpp"

using namespace dbkit::core;

TEST(Drift, DescribesAddedRemovedChanged) {
	auto a = describe_drift("column:public.users.nick", std::nullopt, std::string(R"J({"type": "text"})J"));
	EXPECT_EQ(a.kind, "column");
	EXPECT_EQ(a.name, "public.users.nick");
	EXPECT_EQ(a.change, "added");
	auto r = describe_drift("index:public.i", std::string("{}"), std::nullopt);
	EXPECT_EQ(r.change, "removed");
	auto c = describe_drift("column:public.users.name", std::string(R"J({"type": "text", "not_null": false})J"),
	                        std::string(R"J({"type": "character varying(20)", "not_null": false})J"));
	EXPECT_EQ(c.change, "changed");
	EXPECT_EQ(c.detail, "type: text -> character varying(20)");
}

TEST(Drift, IdentityOptionsNameOnlyWhatChanged) {
	auto d = describe_drift(
	    "column:public.items.id",
	    std::string(R"J({"type": "bigint", "identity": "always", "identity_options": {"max": 9223372036854775807, "min": 1, "cache": 1, "cycle": false, "start": 1, "increment": 1}})J"),
	    std::string(R"J({"type": "bigint", "identity": "always", "identity_options": {"max": 9223372036854775807, "min": 1, "cache": 1, "cycle": false, "start": 1, "increment": 5}})J"));
	EXPECT_EQ(d.change, "changed");
	EXPECT_EQ(d.detail, "identity options: increment 1 -> 5");
	// an identity added: said once, by "identity"
	d = describe_drift("column:public.items.id", std::string(R"J({"type": "bigint"})J"),
	                   std::string(R"J({"type": "bigint", "identity": "always", "identity_options": {"max": 1, "min": 1, "cache": 1, "cycle": false, "start": 1, "increment": 1}})J"));
	EXPECT_EQ(d.detail, "identity: (none) -> always");
}

TEST(Drift, AuditIdentityMatching) {
	EXPECT_TRUE(audit_concerns("public.users.nick", "public.users"));
	EXPECT_TRUE(audit_concerns("public.users", "public.users"));
	EXPECT_FALSE(audit_concerns("public.users_archive", "public.users"));
	EXPECT_TRUE(audit_concerns("public.users.users_pkey", "users_pkey on public.users"));
	EXPECT_FALSE(audit_concerns("public.posts.id", "public.users"));
}

TEST(Drift, GrantExplainsItsObjectOnly) {
	// a table's GRANT: the table and its columns (column privileges), not its constraints
	EXPECT_TRUE(grant_concerns("table", "public.users", "public.users", false));
	EXPECT_TRUE(grant_concerns("column", "public.users.nick", "public.users", false));
	EXPECT_FALSE(grant_concerns("constraint", "public.users.users_pkey", "public.users", false));
	EXPECT_FALSE(grant_concerns("trigger", "public.users.touch", "public.users", false));
	EXPECT_FALSE(grant_concerns("table", "public.users_archive", "public.users", false));
	// a schema's GRANT: the schema row alone, not what is in it, nor an object of another kind so named
	EXPECT_TRUE(grant_concerns("schema", "app", "app", true));
	EXPECT_FALSE(grant_concerns("table", "app.users", "app", true));
	EXPECT_FALSE(grant_concerns("publication", "app", "app", true));
	EXPECT_FALSE(grant_concerns("schema", "app", "app", false));
	// functions and types by their identity
	EXPECT_TRUE(grant_concerns("function", "core.touch()", "core.touch()", false));
	EXPECT_TRUE(grant_concerns("enum", "core.mood", "core.mood", false));
	EXPECT_FALSE(grant_concerns("column", "public.users.nick", "", false));
}

TEST(CodeDrift, TypesNormalizeToFormatType) {
	EXPECT_EQ(normalize_type("serial", ""), "integer");
	EXPECT_EQ(normalize_type("bigserial", ""), "bigint");
	EXPECT_EQ(normalize_type("varchar(255)", ""), "character varying(255)");
	EXPECT_EQ(normalize_type("varchar", ""), "character varying");
	EXPECT_EQ(normalize_type("char", ""), "character(1)");
	EXPECT_EQ(normalize_type("timestamp", ""), "timestamp without time zone");
	EXPECT_EQ(normalize_type("timestamp(3) with time zone", ""), "timestamp(3) with time zone");
	EXPECT_EQ(normalize_type("timestamp (6)", ""), "timestamp(6) without time zone");
	EXPECT_EQ(normalize_type("numeric(10, 2)", ""), "numeric(10,2)");
	EXPECT_EQ(normalize_type("text[]", ""), "text[]");
	EXPECT_EQ(normalize_type("post_status", "public"), "public.post_status");
	EXPECT_EQ(normalize_type("Mood", "app"), "app.\"Mood\"");
}

TEST(CodeDrift, DefaultsLoseTheirCasts) {
	EXPECT_EQ(normalize_default("'draft'::public.post_status"), "'draft'");
	EXPECT_EQ(normalize_default("'member'::text"), "'member'");
	EXPECT_EQ(normalize_default("(0)::bigint"), "0");
	EXPECT_EQ(normalize_default("now()"), "now()");
	EXPECT_EQ(normalize_default("'a'::character varying"), "'a'");
}

TEST(CodeDrift, ComparesADrizzleSnapshotWithTheLiveSchema) {
	JsonValue code_json, live_json;
	JsonError err;
	ASSERT_TRUE(parse_json(R"J({"version": "7", "tables": {"public.users": {"name": "users", "schema": "",
	  "columns": {"id": {"name": "id", "type": "serial", "primaryKey": true, "notNull": true},
	              "email": {"name": "email", "type": "varchar(100)", "primaryKey": false, "notNull": true},
	              "active": {"name": "active", "type": "boolean", "primaryKey": false, "notNull": true, "default": false}},
	  "indexes": {"users_email_idx": {"name": "users_email_idx", "columns": [{"expression": "email", "isExpression": false}], "isUnique": true}},
	  "foreignKeys": {}, "compositePrimaryKeys": {}, "uniqueConstraints": {}}},
	  "enums": {"public.mood": {"name": "mood", "schema": "public", "values": ["sad", "ok"]}}})J",
	                       code_json, err));
	ASSERT_TRUE(parse_json(R"J({
	  "table:public.users": {"kind": "table"},
	  "column:public.users.id": {"type": "integer", "not_null": true, "default": "nextval('users_id_seq'::regclass)"},
	  "column:public.users.email": {"type": "character varying(100)", "not_null": false},
	  "column:public.users.active": {"type": "boolean", "not_null": true, "default": "false"},
	  "column:public.users.extra": {"type": "text", "not_null": false},
	  "constraint:public.users.users_pkey": {"type": "primary key", "definition": "PRIMARY KEY (id)"},
	  "index:public.users_pkey": {"definition": "CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)"},
	  "index:public.users_email_idx": {"definition": "CREATE UNIQUE INDEX users_email_idx ON public.users USING btree (email)"},
	  "enum:public.mood": {"labels": ["sad", "ok", "happy"]}})J",
	                       live_json, err));
	ObjectMap code;
	std::string why;
	ASSERT_TRUE(code_objects(code_json, code, why)) << why;
	auto items = compare_objects(code, live_objects(live_json));
	std::map<std::string, std::string> got;
	for (const auto &d : items)
		got[d.kind + ":" + d.name] = d.change + " " + d.detail;
	EXPECT_EQ(got.size(), 3u);
	EXPECT_EQ(got["column:public.users.email"], "different not_null: code says true, database has false");
	EXPECT_EQ(got["column:public.users.extra"].substr(0, 5), "extra");
	EXPECT_EQ(got["enum:public.mood"], "different labels: code says sad, ok, database has sad, ok, happy");
}

TEST(CodeDrift, UnknownSnapshotVersionIsAnError) {
	JsonValue v;
	JsonError err;
	ASSERT_TRUE(parse_json(R"J({"version": "99"})J", v, err));
	ObjectMap m;
	std::string why;
	EXPECT_FALSE(code_objects(v, m, why));
	EXPECT_NE(why.find("99"), std::string::npos);
}

// Snapshot format 2 (issue 16 item 6): owners, privileges, replica identity,
// rules and the other new kinds read as sentences.
TEST(Drift, DescribesPrivilegeChanges) {
	auto d = describe_drift("table:public.users",
	                        std::string(R"J({"kind": "table", "owner": "alice", "acl": ["alice=arwdDxt/alice"]})J"),
	                        std::string(R"J({"kind": "table", "owner": "alice", "acl": ["PUBLIC=arwdDxt/alice", "alice=arwdDxt/alice"]})J"));
	EXPECT_EQ(d.change, "changed");
	EXPECT_EQ(d.detail,
	          "privileges granted to PUBLIC: DELETE, INSERT, REFERENCES, SELECT, TRIGGER, TRUNCATE, UPDATE");
	auto r = describe_drift("column:public.users.email", std::string(R"J({"type": "text", "acl": ["bob=rw*/alice"]})J"),
	                        std::string(R"J({"type": "text", "acl": ["bob=r/alice"]})J"));
	EXPECT_EQ(r.detail, "privileges revoked from bob: UPDATE WITH GRANT OPTION");
	// a column's acl is absent when nothing was granted on it
	auto c = describe_drift("column:public.users.email", std::string(R"J({"type": "text"})J"),
	                        std::string(R"J({"type": "text", "acl": ["\"odd=role\"=r/alice"]})J"));
	EXPECT_EQ(c.detail, "privileges granted to odd=role: SELECT");
}

TEST(Drift, DescribesOwnerAndReplicaIdentity) {
	auto d = describe_drift("table:public.users",
	                        std::string(R"J({"kind": "table", "owner": "alice", "acl": ["alice=r/alice"]})J"),
	                        std::string(R"J({"kind": "table", "owner": "mallory", "acl": ["mallory=r/mallory"], "replica_identity": "full"})J"));
	EXPECT_EQ(d.detail,
	          "privileges granted to mallory: SELECT; revoked from alice: SELECT; owner: alice -> mallory; "
	          "replica identity: default -> full");
	auto v = describe_drift("view:public.v", std::string(R"J({"definition": "SELECT 1;"})J"),
	                        std::string(R"J({"definition": "SELECT 1;", "options": ["security_invoker=true"]})J"));
	EXPECT_EQ(v.detail, "options: (none) -> [security_invoker=true]");
}

TEST(Drift, DescribesComments) {
	auto d = describe_drift("column:public.t.a", std::string(R"J({"type": "integer"})J"),
	                        std::string(R"J({"type": "integer", "comment": "in cents"})J"));
	EXPECT_EQ(d.detail, "comment: (none) -> 'in cents'");
	d = describe_drift("table:public.t", std::string(R"J({"kind": "table", "comment": "a"})J"),
	                   std::string(R"J({"kind": "table"})J"));
	EXPECT_EQ(d.detail, "comment: 'a' -> (none)");
	d = describe_drift("table:public.t", std::string(R"J({"kind": "table", "comment": "a"})J"),
	                   std::string("{\"kind\": \"table\", \"comment\": \"" + std::string(200, 'x') + "\"}"));
	EXPECT_EQ(d.detail, "comment differs");
	// a view's columns: one change per column that differs
	d = describe_drift("view:public.v", std::string(R"J({"definition": "SELECT 1", "column_comments": {"a": "x", "b": "y"}})J"),
	                   std::string(R"J({"definition": "SELECT 1", "column_comments": {"b": "y", "\"C\"": "z"}})J"));
	EXPECT_EQ(d.detail, "comment on column \"C\": (none) -> 'z'; comment on column a: 'x' -> (none)");
	d = describe_drift("view:public.v", std::string(R"J({"definition": "SELECT 1"})J"),
	                   std::string(R"J({"definition": "SELECT 1", "column_comments": {"a": "x"}})J"));
	EXPECT_EQ(d.detail, "comment on column a: (none) -> 'x'");
}

TEST(Drift, ViewDependenciesFollowTheDefinition) {
	auto d = describe_drift("view:public.v", std::string(R"J({"definition": "SELECT a", "depends_on": ["public.t.a"]})J"),
	                        std::string(R"J({"definition": "SELECT b", "depends_on": ["public.t.b"]})J"));
	EXPECT_EQ(d.detail, "definition: SELECT a -> SELECT b");
}

TEST(Drift, NewKindsSayWhatTheyDo) {
	auto r = describe_drift("rule:public.users.swallow", std::nullopt,
	                        std::string(R"J({"event": "INSERT", "instead": true, "enabled": "O", "definition": "CREATE RULE swallow AS ON INSERT TO public.users DO INSTEAD NOTHING;"})J"));
	EXPECT_EQ(r.kind, "rule");
	EXPECT_EQ(r.change, "added");
	EXPECT_EQ(r.detail,
	          "rule public.users.swallow exists but no migration created it: CREATE RULE swallow AS ON INSERT TO "
	          "public.users DO INSTEAD NOTHING;");
	auto c = describe_drift("cast:(text AS integer)", std::nullopt,
	                        std::string(R"J({"context": "implicit", "method": "inout"})J"));
	EXPECT_EQ(c.detail, "cast (text AS integer) exists but no migration created it: context: implicit, method: inout");
	auto o = describe_drift("operator:public.===(integer,integer)",
	                        std::string(R"J({"function": "public.eq3(integer,integer)", "owner": "alice"})J"), std::nullopt);
	EXPECT_EQ(o.detail, "operator public.===(integer,integer) was created by the migrations but is gone: function: "
	                    "public.eq3(integer,integer)");
	auto p = describe_drift("default_privileges:alice on tables", std::nullopt,
	                        std::string(R"J({"acl": ["PUBLIC=r/alice"]})J"));
	EXPECT_EQ(p.detail, "default_privileges alice on tables exists but no migration created it: granted to PUBLIC: SELECT");
	// kinds 0.1.0 had keep their short form
	auto t = describe_drift("table:public.t", std::nullopt, std::string(R"J({"kind": "table", "owner": "a"})J"));
	EXPECT_EQ(t.detail, "table public.t exists but no migration created it");
}
