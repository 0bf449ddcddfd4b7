#pragma once
// A database whose encoding is not UTF8 (LATIN1, WIN1252...) cannot hold some
// characters. The client sends every file whole, comments included, as one text
// parameter, and PostgreSQL converts it before any of dbkit's code runs, so its
// error (22P05) names a byte sequence and no file. This finds the file.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"

namespace dbkit::client {

struct UntranslatableAt {
	std::string file;  // its name in the payload ("0001_x.sql", "meta/_journal.json"); empty: not a file
	int line = 0, column = 0;  // 1-based; column counts characters
	std::string character;     // the character's UTF-8 bytes
	bool bom = false;          // a UTF-8 byte-order mark at the file's start
	bool in_name = false;      // in the file's name itself (a drizzle-kit 1.0 folder)
};

// The bytes of PostgreSQL's "character with byte sequence 0xf0 0x9f 0x9a 0x80 in
// encoding "UTF8" has no equivalent in encoding ..." message; empty if it is not one.
std::string untranslatable_bytes(std::string_view message);

// Where `bytes` first occurs in each file of a payload given as JSON text
// ({"journal": ..., "files": {...}}), or in `param` itself if it is not JSON
// (then `file` is empty); empty if no such bytes.
std::vector<UntranslatableAt> find_untranslatable(std::string_view param, std::string_view bytes);

// 22P05 on a query whose parameters hold a payload: rewrites the error to name the
// file, line and character, with what to do.
// `labels[i]` names what parameter i holds when it is not a payload ("schema.sql" for
// --schema FILE, "--reason"); empty: unnamed.
void explain_untranslatable(ServerError &err, const std::vector<std::string> &params,
                            const std::vector<std::string> &labels = {});

}  // namespace dbkit::client
