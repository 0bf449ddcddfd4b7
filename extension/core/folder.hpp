// The migrations folder as the client shipped it, and its model: the ordered
// list of migrations, whichever layout drizzle-kit wrote.
//
//   journal layout (drizzle-kit 0.x): meta/_journal.json + <tag>.sql
//   folders layout (drizzle-kit 1.0): <YYYYMMDDHHMMSS_name>/migration.sql
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "finding.hpp"

namespace dbkit::core {

// What the client read from disk. Views point into the caller's buffers.
struct FolderInput {
	std::optional<std::string_view> journal;  // text of meta/_journal.json, if the file exists
	std::vector<std::pair<std::string_view, std::string_view>> files;  // relative path -> content
};

struct Migration {
	int64_t idx = 0;
	std::string tag;        // journal tag, or the folder name in the folders layout
	int64_t when = 0;       // journal `when` (ms); folders layout: the name's UTC timestamp
	bool breakpoints = true;
	std::string file;       // relative path of the SQL file
	std::string_view sql;   // its content
	// The down file that reverses it, if any: <tag>.down.sql beside a journal-layout
	// migration, <dir>/down.sql in a folders-layout one. drizzle ignores both.
	std::string down_file;
	std::optional<std::string_view> down_sql;
};

struct Folder {
	enum class Layout { Journal, Folders, Empty };
	Layout layout = Layout::Empty;
	std::vector<Migration> migrations;  // in apply order
	std::vector<Finding> findings;      // everything wrong with the folder itself
};

// Parses and checks the folder. Never throws on bad input: every problem
// becomes a finding; `migrations` holds what could be understood.
Folder load_folder(const FolderInput &in);

// Journal layout: "<tag>.down.sql" for a migration's down file.
bool is_down_file(std::string_view path);

// A tag is used to build a file name: it must be a plain name.
bool tag_is_safe(std::string_view tag);

// "20261125221325_name" -> 1795644725000 (UTC ms); nullopt if not 14 digits + '_'.
std::optional<int64_t> folder_name_millis(std::string_view name);

}  // namespace dbkit::core
