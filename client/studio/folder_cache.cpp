// dbkit studio: the migrations folder, read again only when it changed (folder_cache.hpp).
#include "folder_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "../folder_reader.hpp"

namespace dbkit::client::studio {

namespace {

int64_t ns(const struct timespec &t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }

void put(std::string &out, const void *p, size_t n) { out.append(static_cast<const char *>(p), n); }

void put_stat(std::string &out, const std::string &name, const struct stat &st, int64_t &newest) {
	out += name;
	out += '\0';
	int64_t f[5] = {int64_t(st.st_mode & S_IFMT), int64_t(st.st_size), ns(st.st_mtim), ns(st.st_ctim),
	                int64_t(st.st_ino)};
	put(out, f, sizeof f);
	newest = std::max({newest, f[2], f[3]});
}

// Every entry of `dir` (symbolic links followed, as read_folder does), and of its
// subfolders when depth > 1. An unreadable entry is stamped by its errno: the read
// that follows reports it.
void stamp_dir(int parent, const std::string &path, const std::string &rel, int depth, std::string &out, int64_t &newest) {
	int fd = ::openat(parent, path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		out += rel + "\x01" + std::to_string(errno) + '\0';
		return;
	}
	DIR *d = ::fdopendir(fd);
	if (!d) {
		::close(fd);
		out += rel + "\x01" + std::to_string(errno) + '\0';
		return;
	}
	while (struct dirent *e = ::readdir(d)) {
		std::string name = e->d_name;
		if (name == "." || name == "..")
			continue;
		struct stat st {};
		if (::fstatat(fd, e->d_name, &st, 0) != 0) {
			out += rel + name + "\x01" + std::to_string(errno) + '\0';
			continue;
		}
		put_stat(out, rel + name, st, newest);
		if (depth > 1 && S_ISDIR(st.st_mode))
			stamp_dir(fd, name, rel + name + "/", depth - 1, out, newest);
	}
	::closedir(d);
}

}  // namespace

std::shared_ptr<const FolderCache::Read> FolderCache::get(bool snapshots) {
	// A file changed twice within one tick of the file system's clock keeps its
	// mtime (and size, if the edit kept it): a stamp is trusted only when nothing
	// in it changed in the last 2 s (coarser clocks than that are not supported).
	constexpr int64_t kRacyNs = 2000000000;
	struct timespec now {};
	::clock_gettime(CLOCK_REALTIME, &now);
	std::string stamp;
	int64_t newest = 0;
	struct stat root {};
	if (::stat(dir_.c_str(), &root) == 0)
		put_stat(stamp, ".", root, newest);
	stamp_dir(AT_FDCWD, dir_, "", 2, stamp, newest);

	std::lock_guard<std::mutex> g(mu_);
	Slot &s = slots_[snapshots ? 1 : 0];
	if (s.read && s.trusted && s.stamp == stamp)
		return s.read;
	// Stamped before reading: a change during the read shows in the next stamp.
	auto r = std::make_shared<Read>();
	r->payload = read_folder(dir_, ReadOptions{snapshots});
	r->text = payload_text(r->payload);
	r->generation = ++generation_;
	s.stamp = std::move(stamp);
	s.trusted = newest < ns(now) - kRacyNs;
	s.read = r;
	return r;
}

}  // namespace dbkit::client::studio
