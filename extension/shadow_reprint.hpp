#pragma once
// The shadow's snapshot with what PostgreSQL stores when its printed definitions
// are written back ("reprinted" members): shadow_reprint.cpp says why.
#include <string>

namespace dbkit {

// Inside the shadow, SPI connected: `snapshot` (jsonb text of what was built)
// with "reprinted" added to the entries whose printed text parses back differently.
// `other`: another side's snapshot (the live schema's); where its print of an object
// differs from the built one's, it is written back onto the built object too, and when
// PostgreSQL then stores what the built object holds (varchar_col IN (...) made by a
// migration, against the same CHECK read from a pg_dump), that print is noted as the
// entry's "reprinted": the same object, said two ways.
std::string with_reprints(const std::string &snapshot, const std::string &other = "");

}  // namespace dbkit
