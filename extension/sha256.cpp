#include "sha256.hpp"

#include "guard.hpp"

namespace dbkit {

std::string sha256_hex(std::string_view text) {
	const char *data = text.data();
	size_t len = text.size();
	if (GetDatabaseEncoding() != PG_UTF8 && GetDatabaseEncoding() != PG_SQL_ASCII) {
		// Back to the bytes the file had: the client always sends UTF-8.
		int ilen = static_cast<int>(len);
		char *utf8 = PgCall([&]() noexcept { return pg_server_to_any(data, ilen, PG_UTF8); });
		data = utf8;
		len = strlen(utf8);
	}
	uint8 digest[PG_SHA256_DIGEST_LENGTH];
	const uint8 *bytes = reinterpret_cast<const uint8 *>(data);
	// the PostgreSQL-version-specific calls (pg_compat.hpp); can raise ERROR (memory, resource owner)
	const char *why = PgCall([&]() noexcept { return compat::sha256(bytes, len, digest); });
	if (why)
		throw Error(ERRCODE_INTERNAL_ERROR, std::string("sha256 failed: ") + why);
	std::string hex(2 * PG_SHA256_DIGEST_LENGTH, '0');
	hex_encode(reinterpret_cast<const char *>(digest), sizeof(digest), hex.data());  // PostgreSQL's; cannot fail
	return hex;
}

}  // namespace dbkit
