#include "hash_cache.hpp"
#include "parallel_for.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <system_error>
#include <thread>
#include <type_traits>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "core/folder_digest.hpp"
#include "sha256.hpp"

namespace dbkit::client {

namespace {

constexpr const char *kHeader = "dbkit-hash-cache 1";

int64_t ns_of(const struct timespec &t) { return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

bool read_all(int dirfd, const char *path, std::string &out) {
	int fd = ::openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st {};
	if (::fstat(fd, &st) == 0 && st.st_size > 0)
		out.reserve(size_t(st.st_size));
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

namespace {

// Unsigned / signed decimal at p, then one space; false if not there.
template <typename T>
bool number(const char *&p, const char *end, T &out) {
	bool neg = std::is_signed_v<T> && p < end && *p == '-';
	if (neg)
		++p;
	const char *start = p;
	uint64_t v = 0;
	while (p < end && *p >= '0' && *p <= '9' && p - start < 20)
		v = v * 10 + uint64_t(*p++ - '0');
	if (p == start || p >= end || *p != ' ')
		return false;
	++p;
	out = neg ? T(-int64_t(v)) : T(v);
	return true;
}

}  // namespace

// One line per entry: sha dev ino size mtime_ns ctime_ns hashed_at_ns <length>:<path>.
// Anything unexpected discards the whole file: a cache is never worth a doubt.
void HashCache::load() {
	if (file_.empty())
		return;
	std::string &text = text_;  // old_'s paths point into it: it is read in place, never moved
	struct stat st {};
	if (::stat(file_.c_str(), &st) == 0) {
		existed_ = true;
		file_mtime_ns_ = ns_of(st.st_mtim);
	}
	if (!read_all(AT_FDCWD, file_.c_str(), text))
		return;
	std::string header = std::string(kHeader) + "\n";
	if (text.compare(0, header.size(), header) != 0)
		return;
	std::vector<std::pair<std::string_view, Entry>> entries;
	entries.reserve(text.size() / 128);  // a line is about 150 bytes
	const char *p = text.data() + header.size(), *end = text.data() + text.size();
	while (p < end) {
		Entry e;
		if (end - p < 65 || p[64] != ' ')
			return;
		for (int i = 0; i < 64; ++i)
			if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
				return;
		e.sha.assign(p, 64);
		p += 65;
		size_t len = 0;
		if (!number(p, end, e.key.dev) || !number(p, end, e.key.ino) || !number(p, end, e.key.size) ||
		    !number(p, end, e.key.mtime_ns) || !number(p, end, e.key.ctime_ns) || !number(p, end, e.hashed_at_ns))
			return;
		const char *colon = static_cast<const char *>(std::memchr(p, ':', size_t(end - p)));
		if (!colon || colon == p)
			return;
		for (const char *d = p; d < colon; ++d)
			if (*d < '0' || *d > '9' || colon - p > 9)
				return;
		len = size_t(std::strtoull(p, nullptr, 10));
		p = colon + 1;
		if (size_t(end - p) < len + 1 || p[len] != '\n')
			return;
		entries.emplace_back(std::string_view(p, len), std::move(e));
		p += len + 1;
	}
	old_ = std::move(entries);
}

// The stored entry of `path`, which is the `at`-th file asked for: entry `at`
// when the folder lists as it did, else looked up by path.
const HashCache::Entry *HashCache::stored(const std::string &path, size_t at) {
	if (at < old_.size() && old_[at].first == path)
		return &old_[at].second;
	if (by_path_.empty() && !old_.empty()) {
		by_path_.reserve(old_.size());
		for (size_t i = 0; i < old_.size(); ++i)
			by_path_.emplace(old_[i].first, i);  // a path twice (a hand-edited file): the first
	}
	auto it = by_path_.find(path);
	return it == by_path_.end() ? nullptr : &old_[it->second].second;
}

HashCache::Probe HashCache::probe(const Entry *old, int dirfd, const char *rel) const {
	Probe r;
	struct stat st {};
	if (::fstatat(dirfd, rel, &st, 0) != 0 || !S_ISREG(st.st_mode))
		return r;
	int64_t g = opts_.granularity_ns > 0 ? opts_.granularity_ns : 1;
	FileKey key{uint64_t(st.st_dev), uint64_t(st.st_ino), uint64_t(st.st_size), ns_of(st.st_mtim) / g * g,
	            ns_of(st.st_ctim) / g * g};
	if (old) {
		const Entry &e = *old;
		// git's racy rule: a file changed within the margin of its hashing may
		// have been changed again since, with the same stat
		bool racy = key.mtime_ns >= e.hashed_at_ns - opts_.racy_margin_ns ||
		            key.ctime_ns >= e.hashed_at_ns - opts_.racy_margin_ns;
		if (e.key == key && !racy) {
			r.ok = r.reused = true;
			r.entry = e;
			return r;
		}
	}
	std::string bytes;
	if (!read_all(dirfd, rel, bytes))
		return r;
	// the stat again: a file that changed while it was read is hashed but not kept
	struct stat after {};
	r.steady = ::fstatat(dirfd, rel, &after, 0) == 0 && after.st_ino == st.st_ino && after.st_size == st.st_size &&
	           ns_of(after.st_mtim) == ns_of(st.st_mtim) && ns_of(after.st_ctim) == ns_of(st.st_ctim);
	r.ok = true;
	r.entry = Entry{key, run_start_ns_, sha256_hex(bytes)};
	return r;
}

std::optional<std::string> HashCache::hash(const std::string &path) { return hash_all({path}).front(); }

std::vector<std::optional<std::string>> HashCache::hash_all(const std::vector<std::string> &paths,
                                                            const std::string &base) {
	std::vector<Probe> probes(paths.size());
	int basefd = base.empty() ? -1 : ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct CloseFd {
		int fd;
		~CloseFd() {
			if (fd >= 0)
				::close(fd);
		}
	} close_base{basefd};
	// the stored entries first, on this thread (the map, if built, is built once)
	std::vector<const Entry *> olds(paths.size());
	for (size_t i = 0; i < paths.size(); ++i)
		olds[i] = stored(paths[i], used_.size() + i);
	auto one = [&](size_t i) {
		const std::string &p = paths[i];
		if (basefd >= 0 && p.size() > base.size() + 1 && p.compare(0, base.size(), base) == 0 && p[base.size()] == '/')
			return probe(olds[i], basefd, p.c_str() + base.size() + 1);
		return probe(olds[i], AT_FDCWD, p.c_str());
	};
	parallel_for(paths.size(), [&](size_t i) { probes[i] = one(i); });
	std::vector<std::optional<std::string>> out(paths.size());
	used_.reserve(used_.size() + paths.size());
	for (size_t i = 0; i < paths.size(); ++i) {
		Probe &r = probes[i];
		if (!r.ok)
			continue;
		out[i] = r.entry.sha;
		if (r.reused)
			++reused_;
		else
			++hashed_;
		if (r.reused || r.steady) {
			dirty_ |= !r.reused;
			used_.emplace_back(paths[i], std::move(r.entry));
		}
	}
	return out;
}

void HashCache::prune_others() const {
	std::error_code ec;
	std::filesystem::path dir = std::filesystem::path(file_).parent_path();
	int64_t cutoff = now() - opts_.prune_after_ns;
	for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
	     it.increment(ec)) {
		std::string name = it->path().filename().string();
		struct stat st {};
		if (name.compare(0, 7, "hashes-") != 0 || it->path() == file_ || ::lstat(it->path().c_str(), &st) != 0 ||
		    !S_ISREG(st.st_mode) || ns_of(st.st_mtim) >= cutoff)
			continue;
		::unlink(it->path().c_str());  // another run may be writing it: then it is only rebuilt
	}
}

void HashCache::save() {
	if (file_.empty())
		return;
	if (!dirty_ && used_.size() == old_.size()) {
		// in use, unchanged: touched once a day so that pruning leaves it
		if (existed_ && file_mtime_ns_ < now() - 24LL * 3600 * 1'000'000'000)
			::utimensat(AT_FDCWD, file_.c_str(), nullptr, 0);
		return;
	}
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
	if (!ok || ::rename(tmp.c_str(), file_.c_str()) != 0) {
		::unlink(tmp.c_str());
		return;
	}
	if (!existed_)
		prune_others();  // a folder seen for the first time: the moment to drop forgotten ones
}

}  // namespace dbkit::client
