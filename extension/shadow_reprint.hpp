#pragma once
// The shadow's snapshot with what PostgreSQL stores when its printed definitions
// are written back ("reprinted" members): shadow_reprint.cpp says why.
#include <string>

namespace dbkit {

// Inside the shadow, SPI connected: `snapshot` (jsonb text of what was built)
// with "reprinted" added to the entries whose printed text parses back differently.
std::string with_reprints(const std::string &snapshot);

}  // namespace dbkit
