#include "sha256.hpp"

#include <openssl/evp.h>

#include "core/folder_digest.hpp"

namespace dbkit::client {

std::string sha256_hex(std::string_view bytes) {
	// Fetched once: EVP_sha256() looks the implementation up again on every call.
	static EVP_MD *md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
	unsigned char out[32];
	unsigned int len = 0;
	if (!md || EVP_Digest(bytes.data(), bytes.size(), out, &len, md, nullptr) != 1 || len != sizeof out)
		return core::sha256_hex_plain(bytes);  // a libcrypto without SHA256 (FIPS setups): the plain one
	static const char *hex = "0123456789abcdef";
	std::string s(64, '0');
	for (int i = 0; i < 32; ++i) {
		s[2 * i] = hex[out[i] >> 4];
		s[2 * i + 1] = hex[out[i] & 0xf];
	}
	return s;
}

}  // namespace dbkit::client
