#pragma once
#include <string>

#include "pg.hpp"
// The library and the extension's SQL objects change together. After a package
// upgrade, a database whose SQL objects are still an older version (ALTER EXTENSION
// dbkit UPDATE not run yet) gets a clear error from every dbkit function instead of
// one that fails half-way on a missing object.

namespace dbkit {

inline constexpr const char *kLibraryVersion = "0.2.0";

// Throws Error (55000) naming both versions and the command that fixes it, unless the
// installed extension is at kLibraryVersion or its own install/update script is running.
void require_sql_version(const char *function);

// The schema dbkit is installed in (InvalidOid when it is not); PostgreSQL 15 does not
// export get_extension_schema. May raise: call it inside PgCall.
Oid extension_namespace() noexcept;

// That schema's name, quoted as in SQL ("public" when dbkit is not installed).
std::string extension_schema();

}  // namespace dbkit
