#pragma once
// Reads a migrations folder from disk into the payload the server expects:
//   {"journal": "<meta/_journal.json>", "files": {"<relative path>": "<text>"}}
// It decides nothing about the migrations; it only refuses bytes that JSON
// cannot carry (invalid UTF-8, NUL), naming the file and the offset.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/finding.hpp"
#include "core/folder.hpp"

namespace dbkit::client {

struct FolderError : std::runtime_error {
	FolderError(const std::string &msg, bool unreadable_content = false)
	    : std::runtime_error(msg), bad_content(unreadable_content) {}
	bool bad_content;  // a file exists but cannot be shipped (not UTF-8, NUL bytes)
};

struct ReadOptions {
	bool snapshots = false;  // also ship meta/*_snapshot.json and <dir>/snapshot.json
	// Report unshippable files as findings (invalid bytes replaced by U+FFFD)
	// instead of throwing: `dbkit check` lists every problem.
	std::vector<core::Finding> *findings = nullptr;
};

nlohmann::json read_folder(const std::string &dir, const ReadOptions &opts = {});

// The files read_folder() ships, without reading them: where each is on disk
// and its name in the payload (the journal is "meta/_journal.json").
struct FolderFile {
	std::string path;
	std::string name;
};
std::vector<FolderFile> list_folder(const std::string &dir, bool snapshots);

// A fleet run (client/fleet.cpp) applies one folder to many databases. While
// sharing is on, the first read_folder() of a directory (with given options) is
// kept, and every later one, on any thread, returns that read: the same bytes,
// findings and error for every target, whatever changes on disk meanwhile.
void share_folder_reads(bool on);
bool folder_reads_shared();

// The payload as JSON text, as payload.dump() would write it but several times
// faster on megabytes of SQL (it scans for the few bytes that need escaping).
std::string payload_text(const nlohmann::json &payload);

// The payload as the core's input; views point into `payload`.
core::FolderInput folder_input(const nlohmann::json &payload);

}  // namespace dbkit::client
