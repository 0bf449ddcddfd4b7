// The folder digest (core/folder_digest.hpp) and the plain sha256 under it.
#include <gtest/gtest.h>

#include "core/folder_digest.hpp"

using dbkit::core::folder_digest;
using dbkit::core::sha256_hex_plain;

TEST(Sha256Plain, PublishedVectors) {
	EXPECT_EQ(sha256_hex_plain(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	EXPECT_EQ(sha256_hex_plain("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	EXPECT_EQ(sha256_hex_plain("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
	          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	// one full block with the padding in a second block, and a million bytes
	EXPECT_EQ(sha256_hex_plain(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
	EXPECT_EQ(sha256_hex_plain(std::string(1000000, 'a')),
	          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(FolderDigest, OrderOfTheListingDoesNotMatter) {
	auto a = folder_digest(std::string("j"), {{"0001_a.sql", "h1"}, {"0002_b.sql", "h2"}});
	auto b = folder_digest(std::string("j"), {{"0002_b.sql", "h2"}, {"0001_a.sql", "h1"}});
	EXPECT_EQ(a, b);
	EXPECT_EQ(a.size(), 64u);
}

TEST(FolderDigest, EveryPartCounts) {
	auto base = folder_digest(std::string("j"), {{"0001_a.sql", "h1"}, {"0002_b/down.sql", "h2"}});
	EXPECT_NE(base, folder_digest(std::string("k"), {{"0001_a.sql", "h1"}, {"0002_b/down.sql", "h2"}}));
	EXPECT_NE(base, folder_digest(std::nullopt, {{"0001_a.sql", "h1"}, {"0002_b/down.sql", "h2"}}));
	EXPECT_NE(base, folder_digest(std::string("j"), {{"0001_a.sql", "h1"}, {"0002_b/down.sql", "h3"}}));
	EXPECT_NE(base, folder_digest(std::string("j"), {{"0001_a.sql", "h1"}}));
	EXPECT_NE(base, folder_digest(std::string("j"), {{"0001_a.sql", "h1"}, {"0002_c/down.sql", "h2"}}));
}

TEST(FolderDigest, NamesCannotRunIntoEachOther) {
	// a name holding "<space><sha>\n" must not pass for two files
	auto one = folder_digest(std::nullopt, {{"a.sql h1\n1:b", "h2"}});
	auto two = folder_digest(std::nullopt, {{"a.sql", "h1"}, {"b", "h2"}});
	EXPECT_NE(one, two);
}
