#pragma once
// The folder argument, loaded and checked, with every file hashed.
#include <optional>
#include <string>
#include <vector>

#include "core/folder.hpp"
#include "payload.hpp"

namespace dbkit {

struct LoadedFolder {
	core::FolderInput input;
	core::Folder folder;
	std::vector<std::string> hashes;  // sha256 hex per folder.migrations[i]
	std::vector<std::optional<std::string>> down_hashes;  // of its down file, when it has one
};

// Raises DK001 naming every error-severity finding (nothing is applied);
// emits the warnings as WARNING messages.
// writes: the caller applies or records something, so an invalid folder's error says
// that nothing was applied (a read, as status or drift, changes nothing anyway).
// show_anyway: when the only errors are files the journal names but the folder lacks, they
// are sent as WARNINGs instead (dbkit status shows an applied one as `missing`).
LoadedFolder load_folder_arg(Jsonb *folder, bool writes = true, bool show_anyway = false);

// Sends a finding to the client as a WARNING.
void warn(const core::Finding &f);

// DETAIL for an error that stands for several findings: "N problems:" and the
// first 20, then where to see the rest. Empty for a single finding.
std::string problems_detail(const std::vector<const core::Finding *> &findings, const char *see_all);

}  // namespace dbkit
