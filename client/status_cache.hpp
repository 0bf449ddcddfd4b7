#pragma once
// `dbkit status --dir` when nothing changed: the folder's digest from the hash
// cache (client/hash_cache.hpp), and the server's answer for that digest
// (dbkit_status_cached) instead of sending 10,000 files. docs/design.md,
// "status from a cache".
#include <optional>
#include <string>

#include "session.hpp"

namespace dbkit::client {

// Whether this run may use the caches: not with --no-cache or DBKIT_NO_CACHE=1,
// nor in a fleet run (every target must see the one read of the folder).
bool status_cache_enabled(const Common &c);

// The digest (core/folder_digest.hpp) of the folder c.dir, its files' hashes
// taken from the hash cache where they may be trusted. nullopt when a file
// cannot be listed, stat'ed or read: the caller reads the folder as before and
// reports the problem the usual way.
std::optional<std::string> cached_folder_digest(const Common &c);

}  // namespace dbkit::client
