#include "hash_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/folder_digest.hpp"

namespace dbkit::client {

namespace {

constexpr const char *kHeader = "dbkit-hash-cache 1";

int64_t ns_of(const struct timespec &t) { return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

bool read_all(const std::string &path, std::string &out) {
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char buf[65536];
	for (;;) {
		ssize_t n = ::read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			::close(fd);
			return false;
		}
		if (n == 0)
			break;
		out.append(buf, size_t(n));
	}
	::close(fd);
	return true;
}

}  // namespace

HashCache::HashCache(std::string file, HashCacheOptions opts) : file_(std::move(file)), opts_(std::move(opts)) {
	run_start_ns_ = now();  // before any stat: every hash of this run is taken after it
	load();
}

int64_t HashCache::now() const {
	if (opts_.now_ns)
		return opts_.now_ns();
	struct timespec t {};
	clock_gettime(CLOCK_REALTIME, &t);
	return ns_of(t);
}

std::string HashCache::default_dir() {
	const char *xdg = std::getenv("XDG_CACHE_HOME");
	if (xdg && *xdg == '/')  // the XDG spec: a relative path is invalid and ignored
		return std::string(xdg) + "/dbkit";
	const char *home = std::getenv("HOME");
	if (home && *home)
		return std::string(home) + "/.cache/dbkit";
	return "";
}

std::string HashCache::file_for(const std::string &cache_dir, const std::string &abs_folder) {
	if (cache_dir.empty())
		return "";
	return cache_dir + "/hashes-" + core::sha256_hex_plain(abs_folder).substr(0, 32);
}

// One line per entry: sha dev ino size mtime_ns ctime_ns hashed_at_ns <length>:<path>.
// Anything unexpected discards the whole file: a cache is never worth a doubt.
void HashCache::load() {
	if (file_.empty())
		return;
	std::string text;
	if (!read_all(file_, text))
		return;
	std::istringstream in(text);
	std::string line;
	if (!std::getline(in, line) || line != kHeader)
		return;
	std::map<std::string, Entry> entries;
	while (std::getline(in, line)) {
		std::istringstream ls(line);
		Entry e;
		size_t len = 0;
		char colon = 0;
		if (!(ls >> e.sha >> e.key.dev >> e.key.ino >> e.key.size >> e.key.mtime_ns >> e.key.ctime_ns >> e.hashed_at_ns >>
		      len >> colon) ||
		    colon != ':' || e.sha.size() != 64 || e.sha.find_first_not_of("0123456789abcdef") != std::string::npos)
			return;
		std::string path;
		std::getline(ls, path);
		if (path.size() != len)
			return;
		entries[path] = std::move(e);
	}
	old_ = std::move(entries);
}

std::optional<std::string> HashCache::hash(const std::string &path) {
	struct stat st {};
	if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
		return std::nullopt;
	int64_t g = opts_.granularity_ns > 0 ? opts_.granularity_ns : 1;
	FileKey key{uint64_t(st.st_dev), uint64_t(st.st_ino), uint64_t(st.st_size), ns_of(st.st_mtim) / g * g,
	            ns_of(st.st_ctim) / g * g};
	if (auto it = old_.find(path); it != old_.end()) {
		const Entry &e = it->second;
		// git's racy rule: a file changed within the margin of its hashing may
		// have been changed again since, with the same stat
		bool racy = key.mtime_ns >= e.hashed_at_ns - opts_.racy_margin_ns ||
		            key.ctime_ns >= e.hashed_at_ns - opts_.racy_margin_ns;
		if (e.key == key && !racy) {
			used_[path] = e;
			++reused_;
			return e.sha;
		}
	}
	std::string bytes;
	if (!read_all(path, bytes))
		return std::nullopt;
	// the stat again: a file that changed while it was read is hashed but not kept
	struct stat after {};
	bool steady = ::stat(path.c_str(), &after) == 0 && after.st_ino == st.st_ino && after.st_size == st.st_size &&
	              ns_of(after.st_mtim) == ns_of(st.st_mtim) && ns_of(after.st_ctim) == ns_of(st.st_ctim);
	std::string sha = core::sha256_hex_plain(bytes);
	++hashed_;
	if (steady) {
		used_[path] = Entry{key, run_start_ns_, sha};
		dirty_ = true;
	}
	return sha;
}

void HashCache::save() {
	if (file_.empty())
		return;
	if (!dirty_ && used_.size() == old_.size())
		return;
	std::string text = std::string(kHeader) + "\n";
	for (const auto &[path, e] : used_) {
		if (path.find('\n') != std::string::npos)
			continue;  // one line per entry
		text += e.sha + " " + std::to_string(e.key.dev) + " " + std::to_string(e.key.ino) + " " +
		        std::to_string(e.key.size) + " " + std::to_string(e.key.mtime_ns) + " " + std::to_string(e.key.ctime_ns) +
		        " " + std::to_string(e.hashed_at_ns) + " " + std::to_string(path.size()) + ":" + path + "\n";
	}
	std::error_code ec;
	std::filesystem::path dir = std::filesystem::path(file_).parent_path();
	std::filesystem::create_directories(dir, ec);
	std::string tmp = file_ + ".tmp." + std::to_string(::getpid());
	int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	size_t off = 0;
	bool ok = true;
	while (off < text.size()) {
		ssize_t n = ::write(fd, text.data() + off, text.size() - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ok = false;
			break;
		}
		off += size_t(n);
	}
	ok = ::close(fd) == 0 && ok;
	if (!ok || ::rename(tmp.c_str(), file_.c_str()) != 0)
		::unlink(tmp.c_str());
}

}  // namespace dbkit::client
