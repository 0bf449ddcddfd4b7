#pragma once
// Reads a migrations folder from disk into the payload the server expects:
//   {"journal": "<meta/_journal.json>", "files": {"<relative path>": "<text>"}}
// It decides nothing about the migrations; it only refuses bytes that JSON
// cannot carry (invalid UTF-8, NUL), naming the file and the offset.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace dbkit::client {

struct FolderError : std::runtime_error {
	FolderError(const std::string &msg, bool unreadable_content = false)
	    : std::runtime_error(msg), bad_content(unreadable_content) {}
	bool bad_content;  // a file exists but cannot be shipped (not UTF-8, NUL bytes)
};

struct ReadOptions {
	bool snapshots = false;  // also ship meta/*_snapshot.json and <dir>/snapshot.json
};

nlohmann::json read_folder(const std::string &dir, const ReadOptions &opts = {});

}  // namespace dbkit::client
