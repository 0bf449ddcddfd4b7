// The client's sha256 (OpenSSL's) must equal the plain one the server's digest uses:
// a folder digest computed with either must be the same key.
#include <gtest/gtest.h>

#include "core/folder_digest.hpp"
#include "sha256.hpp"

using dbkit::client::sha256_hex;
using dbkit::core::sha256_hex_plain;

TEST(ClientSha256, EqualsThePlainOne) {
	EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	std::string s;
	for (int n = 0; n < 300; ++n) {  // every padding case: lengths around each block boundary
		s += static_cast<char>(n * 37 + 11);
		EXPECT_EQ(sha256_hex(s), sha256_hex_plain(s)) << "length " << s.size();
	}
	std::string big(1 << 20, 'x');
	EXPECT_EQ(sha256_hex(big), sha256_hex_plain(big));
}

TEST(ClientSha256, FolderDigestFromTheListing) {
	std::vector<std::pair<std::string, std::string>> files{{"0002_b.sql", "h2"}, {"0001_a.sql", "h1"}};
	EXPECT_EQ(sha256_hex(dbkit::core::folder_listing(std::string("j"), files)),
	          dbkit::core::folder_digest(std::string("j"), files));
}
