#pragma once
// A client-side cache of file hashes, as git's index keeps one: the sha256 of a
// file is reused while the file's (path, device, inode, size, mtime, ctime) are
// those it had when it was hashed. So `dbkit status --dir` on an unchanged
// folder of 10,000 migrations stats the files instead of reading them.
//
// Safe first: any change of the stat (an edit, a file replaced by another with
// the same size and a copied mtime: a new inode, a new ctime) re-hashes, and so
// does git's "racy" case: an entry whose mtime or ctime is not older than the
// moment its hash was taken, minus a margin, may hide an edit made within the
// filesystem's timestamp granularity, and is re-hashed at every use until it is
// old enough. A cache that cannot be read, is corrupt, or cannot be written
// never fails a command: it is ignored, and the files are read.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dbkit::client {

struct FileKey {
	uint64_t dev = 0, ino = 0, size = 0;
	int64_t mtime_ns = 0, ctime_ns = 0;
	bool operator==(const FileKey &o) const {
		return dev == o.dev && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
	}
};

struct HashCacheOptions {
	// Entries not older than this before their hash was taken are re-hashed.
	// 2 s covers filesystems with 1 s (ext3, HFS+) or 2 s (FAT) timestamps and
	// ext4's coarse clock (a few milliseconds).
	int64_t racy_margin_ns = 2'000'000'000;
	// For the tests: timestamps as a coarse filesystem records them (1 s: an
	// edit within the same second keeps the same mtime and ctime), and the
	// clock.
	int64_t granularity_ns = 1;
	std::function<int64_t()> now_ns;  // empty: the system's realtime clock
	// Cache files (of any folder) not written or used for this long are removed
	// when a folder's cache is written for the first time: one file per folder
	// ever seen (CI checkouts in fresh paths) would otherwise pile up. A cache
	// in use is touched once a day, so only forgotten folders age out.
	int64_t prune_after_ns = 30LL * 24 * 3600 * 1'000'000'000;
};

class HashCache {
public:
	// `file`: where the cache lives (empty: no cache, every file is hashed).
	explicit HashCache(std::string file, HashCacheOptions opts = {});

	// The sha256 hex of the file at `path` (absolute), from the cache when it
	// may be trusted, else read and hashed. nullopt when it cannot be stat'ed
	// or read.
	std::optional<std::string> hash(const std::string &path);
	// The same for many files, stat'ed (and read, when needed) on a few
	// threads: on a VM where a syscall costs microseconds, 10,000 stats are
	// most of a cached `status --dir`.
	// `base`: a directory most paths are under; they are then stat'ed
	// relative to it (one path component to resolve instead of every one).
	std::vector<std::optional<std::string>> hash_all(const std::vector<std::string> &paths,
	                                                 const std::string &base = "");

	// Writes the entries used by this run (temp file + rename). Failures are
	// ignored. Nothing is written when nothing changed.
	void save();

	size_t hashed() const { return hashed_; }  // files read and hashed by this run
	size_t reused() const { return reused_; }  // hashes taken from the cache

	// $XDG_CACHE_HOME/dbkit (else $HOME/.cache/dbkit), and the cache file of a
	// folder in it (named by the sha256 of the folder's absolute path). Empty
	// when neither variable is set.
	static std::string default_dir();
	static std::string file_for(const std::string &cache_dir, const std::string &abs_folder);

private:
	struct Entry {
		FileKey key;
		int64_t hashed_at_ns = 0;  // the clock when the run that hashed it started
		std::string sha;
	};
	struct Probe {  // one file's stat and hash, found without touching the cache's state
		bool ok = false, reused = false, steady = false;
		Entry entry;
	};
	void load();
	void prune_others() const;
	int64_t now() const;
	const Entry *stored(const std::string &path, size_t at);
	Probe probe(const Entry *old, int dirfd, const char *rel) const;

	std::string file_;
	HashCacheOptions opts_;
	int64_t run_start_ns_;
	// The file's entries in its order, which is the order the files were listed
	// in last time: an unchanged folder lists them in the same order, so entry i
	// is file i's and no map is built. The map (by path) only when they differ.
	bool existed_ = false;      // the cache file was there to read
	int64_t file_mtime_ns_ = 0;  // and when it was last written or touched
	std::string text_;  // the file, which old_'s paths point into
	std::vector<std::pair<std::string_view, Entry>> old_;
	std::unordered_map<std::string_view, size_t> by_path_;
	std::vector<std::pair<std::string, Entry>> used_;  // what save() writes
	bool dirty_ = false;
	size_t hashed_ = 0, reused_ = 0;
};

}  // namespace dbkit::client
