#include "status_cache.hpp"

#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include "core/folder_digest.hpp"
#include "folder_reader.hpp"
#include "hash_cache.hpp"

namespace fs = std::filesystem;

namespace dbkit::client {

bool status_cache_enabled(const Common &c) {
	const char *env = std::getenv("DBKIT_NO_CACHE");
	bool env_off = env && *env && std::string(env) != "0";
	return !c.no_cache && !env_off && !folder_reads_shared();
}

std::optional<std::string> cached_folder_digest(const Common &c) {
	try {
		std::string root = fs::canonical(c.dir).string();  // one cache per folder, however it is named
		HashCache cache(HashCache::file_for(HashCache::default_dir(), root));
		std::optional<std::string> journal;
		std::vector<std::pair<std::string, std::string>> files;
		for (const FolderFile &f : list_folder(root, /*snapshots=*/false)) {
			std::optional<std::string> sha = cache.hash(f.path.string());
			if (!sha)
				return std::nullopt;
			if (f.name == "meta/_journal.json")
				journal = std::move(*sha);
			else
				files.emplace_back(f.name, std::move(*sha));
		}
		cache.save();
		return core::folder_digest(journal, std::move(files));
	} catch (...) {  // a folder that cannot be listed: the ordinary path says why
		return std::nullopt;
	}
}

}  // namespace dbkit::client
