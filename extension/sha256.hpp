#pragma once
#include <string>
#include <string_view>

namespace dbkit {
// sha256 hex of the file's bytes as the client read them (drizzle's hash).
// `text` is in the database encoding; it is hashed as UTF-8, the file's encoding.
std::string sha256_hex(std::string_view text);
}  // namespace dbkit
