// client/drizzle_snapshot_file: the drizzle-kit snapshot dbkit generate writes in
// the journal layout: uuid v4 ids, the prevId chain, drizzle-kit's choice of the
// previous snapshot, the file's name and text.
#include <gtest/gtest.h>

#include <set>

#include "drizzle_snapshot_file.hpp"

using namespace dbkit::client;

TEST(DrizzleSnapshotFile, UuidV4IsWellFormedAndFresh) {
	std::set<std::string> seen;
	for (int i = 0; i < 200; ++i) {
		std::string u = uuid_v4();
		ASSERT_TRUE(is_uuid(u)) << u;
		EXPECT_EQ(u[14], '4') << u;                                   // version 4
		EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;  // RFC 4122 variant
		for (char ch : u)
			EXPECT_TRUE(ch == '-' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) << u;
		EXPECT_TRUE(seen.insert(u).second) << "repeated " << u;
	}
}

TEST(DrizzleSnapshotFile, IsUuid) {
	EXPECT_TRUE(is_uuid(kNoPrevSnapshotId));
	EXPECT_TRUE(is_uuid("0fc5dfb9-53f1-415e-a59c-98e46ae9409b"));
	EXPECT_FALSE(is_uuid(""));
	EXPECT_FALSE(is_uuid("0fc5dfb9-53f1-415e-a59c-98e46ae9409"));
	EXPECT_FALSE(is_uuid("0fc5dfb9_53f1-415e-a59c-98e46ae9409b"));
	EXPECT_FALSE(is_uuid("0fc5dfb9-53f1-415e-a59c-98e46ae9409z"));
}

TEST(DrizzleSnapshotFile, FileNameIsTheTagsIndex) {
	EXPECT_EQ(snapshot_file_name(0), "0000_snapshot.json");
	EXPECT_EQ(snapshot_file_name(12), "0012_snapshot.json");
	EXPECT_EQ(snapshot_file_name(12345), "12345_snapshot.json");
}

TEST(DrizzleSnapshotFile, PreviousIsDrizzleKitsChoice) {
	EXPECT_EQ(newest_snapshot_name({}), std::nullopt);
	EXPECT_EQ(newest_snapshot_name({"_journal.json"}), std::nullopt);
	EXPECT_EQ(newest_snapshot_name({"0001_snapshot.json", "_journal.json", "0000_snapshot.json"}),
	          "0001_snapshot.json");
	// byte order, as drizzle-kit's readdirSync(...).sort(): not numeric
	EXPECT_EQ(newest_snapshot_name({"0010_snapshot.json", "0009_snapshot.json"}), "0010_snapshot.json");
	EXPECT_EQ(newest_snapshot_name({"9_snapshot.json", "0010_snapshot.json"}), "9_snapshot.json");
}

TEST(DrizzleSnapshotFile, IdOfThePreviousSnapshot) {
	EXPECT_EQ(snapshot_id(R"({"id": "0fc5dfb9-53f1-415e-a59c-98e46ae9409b", "prevId": "00000000-0000-0000-0000-000000000000"})",
	                      "meta/0000_snapshot.json"),
	          "0fc5dfb9-53f1-415e-a59c-98e46ae9409b");
	try {
		snapshot_id("{\"id\": ", "meta/0003_snapshot.json");
		FAIL() << "invalid JSON accepted";
	} catch (const SnapshotError &e) {
		EXPECT_EQ(std::string(e.what()), "meta/0003_snapshot.json is not JSON");
	}
	EXPECT_THROW(snapshot_id("[]", "f"), SnapshotError);
	EXPECT_THROW(snapshot_id("{}", "f"), SnapshotError);
	EXPECT_THROW(snapshot_id(R"({"id": 7})", "f"), SnapshotError);
	EXPECT_THROW(snapshot_id(R"({"id": "not-a-uuid"})", "f"), SnapshotError);
}

TEST(DrizzleSnapshotFile, ChainLinksEachToTheOneBefore) {
	auto one = snapshot_chain(1, kNoPrevSnapshotId);
	ASSERT_EQ(one.size(), 1u);
	EXPECT_EQ(one[0].second, kNoPrevSnapshotId);
	EXPECT_TRUE(is_uuid(one[0].first));

	auto three = snapshot_chain(3, "0fc5dfb9-53f1-415e-a59c-98e46ae9409b");
	ASSERT_EQ(three.size(), 3u);
	EXPECT_EQ(three[0].second, "0fc5dfb9-53f1-415e-a59c-98e46ae9409b");
	EXPECT_EQ(three[1].second, three[0].first);
	EXPECT_EQ(three[2].second, three[1].first);
	EXPECT_NE(three[0].first, three[1].first);
	EXPECT_NE(three[1].first, three[2].first);
	EXPECT_TRUE(snapshot_chain(0, kNoPrevSnapshotId).empty());
}

TEST(DrizzleSnapshotFile, TextAsDrizzleKitWritesIt) {
	// the server's jsonb order, with an id of its own that must not survive
	auto body = nlohmann::ordered_json::parse(
	    R"({"_meta": {"schemas": {}, "tables": {}, "columns": {}}, "id": "x", "enums": {}, "roles": {}, "views": {},
	        "tables": {"public.t": {"name": "t", "columns": {"a": {"name": "a", "default": 0}}}},
	        "schemas": {}, "dialect": "postgresql", "version": "7", "policies": {}, "sequences": {}})");
	std::string text = snapshot_text(body, "11111111-2222-4333-8444-555555555555", kNoPrevSnapshotId);
	EXPECT_EQ(text.back(), '}');  // no final newline
	auto j = nlohmann::ordered_json::parse(text);
	std::vector<std::string> keys;
	for (const auto &[k, v] : j.items())
		keys.push_back(k);
	EXPECT_EQ(keys, (std::vector<std::string>{"id", "prevId", "version", "dialect", "tables", "enums", "schemas",
	                                          "sequences", "roles", "policies", "views", "_meta"}));
	EXPECT_EQ(j["id"], "11111111-2222-4333-8444-555555555555");
	EXPECT_EQ(j["prevId"], kNoPrevSnapshotId);
	EXPECT_EQ(j["tables"]["public.t"]["columns"]["a"]["default"], 0);
	EXPECT_NE(text.find("\n  \"prevId\": \"00000000-0000-0000-0000-000000000000\",\n"), std::string::npos) << text;
	EXPECT_NE(text.find("\"enums\": {},"), std::string::npos) << text;  // empty objects as JSON.stringify writes them
}
