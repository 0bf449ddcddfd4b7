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
	pg_cryptohash_ctx *ctx = PgCall([]() noexcept { return pg_cryptohash_create(PG_SHA256); });
	if (pg_cryptohash_init(ctx) < 0 || pg_cryptohash_update(ctx, reinterpret_cast<const uint8 *>(data), len) < 0 ||
	    pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0) {
		std::string why = pg_cryptohash_error(ctx);
		pg_cryptohash_free(ctx);
		throw Error(ERRCODE_INTERNAL_ERROR, "sha256 failed: " + why);
	}
	pg_cryptohash_free(ctx);  // resource-owner tracked: free on the success path
	std::string hex(2 * PG_SHA256_DIGEST_LENGTH, '0');
	hex_encode(reinterpret_cast<const char *>(digest), sizeof(digest), hex.data());  // PostgreSQL's; cannot fail
	return hex;
}

}  // namespace dbkit
