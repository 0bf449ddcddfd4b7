#pragma once
// sha256 for the client, from OpenSSL's libcrypto (already loaded through libpq):
// it uses the CPU's SHA instructions where there are some, several times faster
// than the plain one in core/folder_digest.hpp, which it must always equal
// (tests/unit/client_sha256_test.cpp).
#include <string>
#include <string_view>

namespace dbkit::client {

// Lower-case hex sha256 of the bytes.
std::string sha256_hex(std::string_view bytes);

}  // namespace dbkit::client
