#pragma once
// Reading the jsonb arguments of dbkit_apply & co: the folder the client
// shipped and the options. Strings are views into the detoasted jsonb.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/folder.hpp"
#include "guard.hpp"

namespace dbkit {

// folder: {"journal": "<meta/_journal.json text>", "files": {"<relative path>": "<content>", ...}}
// The journal may also travel as files["meta/_journal.json"].
core::FolderInput read_folder(Jsonb *folder);

struct Options {
	bool out_of_order = false;
	bool drizzle_sync = true;
	std::string drizzle_schema = "drizzle";
	std::string drizzle_table = "__drizzle_migrations";
};
Options read_options(Jsonb *options);  // nullptr: defaults

}  // namespace dbkit
