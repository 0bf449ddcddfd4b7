#include "status_cache.hpp"

#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include "core/folder_digest.hpp"
#include "folder_reader.hpp"
#include "hash_cache.hpp"
#include "sha256.hpp"

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
		std::vector<FolderFile> listing = list_folder(root, /*snapshots=*/false);
		std::vector<std::string> paths;
		paths.reserve(listing.size());
		for (const FolderFile &f : listing)
			paths.push_back(f.path);
		std::vector<std::optional<std::string>> shas = cache.hash_all(paths, root);
		files.reserve(listing.size());
		for (size_t i = 0; i < listing.size(); ++i) {
			if (!shas[i])
				return std::nullopt;
			if (listing[i].name == "meta/_journal.json")
				journal = std::move(*shas[i]);
			else
				files.emplace_back(std::move(listing[i].name), std::move(*shas[i]));
		}
		cache.save();
		return sha256_hex(core::folder_listing(journal, std::move(files)));
	} catch (...) {  // a folder that cannot be listed: the ordinary path says why
		return std::nullopt;
	}
}

}  // namespace dbkit::client
