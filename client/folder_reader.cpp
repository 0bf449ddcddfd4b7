#include "folder_reader.hpp"
#include "parallel_for.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <exception>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "core/json.hpp"
#include "core/text.hpp"

namespace fs = std::filesystem;

namespace dbkit::client {

namespace {

constexpr int kNotRegular = -1;  // slurp(): what was opened is not a regular file

// A whole file with plain POSIX calls: 10,000 small files through ifstream
// cost twice as much (a FILE and its buffer per file). Returns errno, 0 if read,
// kNotRegular for a FIFO, device or socket (list_folder refuses those before any
// read; O_NONBLOCK keeps a FIFO swapped in since from blocking the open).
int slurp(const std::string &p, std::string &out) {
	int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno;
	struct stat st {};
	if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISREG(st.st_mode) ? errno : kNotRegular;
		::close(fd);
		return e;
	}
	if (st.st_size > 0)
		out.reserve(static_cast<size_t>(st.st_size));
	char buf[65536];
	for (;;) {
		ssize_t n = ::read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			::close(fd);
			return e;
		}
		if (n == 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	::close(fd);
	return 0;
}

// Reads every file, on a few threads when there are many: on a VM where a
// syscall costs microseconds, opening 10,000 files is most of `status --dir`.
std::vector<std::string> slurp_all(const std::vector<std::string> &paths) {
	std::vector<std::string> out(paths.size());
	std::vector<int> errs(paths.size(), 0);
	parallel_for(paths.size(), [&](size_t i) { errs[i] = slurp(paths[i], out[i]); });
	for (size_t i = 0; i < paths.size(); ++i)
		if (errs[i])
			throw FolderError(errs[i] == kNotRegular
			                      ? fmt::format("cannot read {}: not a regular file; nothing was read or applied",
			                                    paths[i])
			                      : fmt::format("cannot read {}: {}", paths[i], std::strerror(errs[i])),
			                  true);
	return out;
}

// Replaces each invalid byte (and NUL) by U+FFFD.
std::string repaired(std::string_view s) {
	std::string out;
	size_t bad = 0;
	while (!core::valid_utf8(s, &bad)) {
		out.append(s.substr(0, bad));
		out += "\xef\xbf\xbd";
		s.remove_prefix(bad + 1);
	}
	out.append(s);
	return out;
}

std::string checked(std::string text, const std::string &rel, const ReadOptions &opts) {
	size_t bad = 0;
	if (core::valid_utf8(text, &bad))
		return text;
	std::string msg = fmt::format("{}: {} at byte {} (line {}); migrations must be UTF-8 text (drizzle hashes the "
	                              "file as UTF-8)",
	                              rel, text[bad] == '\0' ? "NUL byte" : "invalid UTF-8", bad, core::line_at(text, bad));
	if (!opts.findings)
		throw FolderError(msg, true);
	std::string subject = rel;
	if (size_t dot = subject.rfind(".sql"); dot != std::string::npos && subject.find('/') == std::string::npos)
		subject.erase(dot);
	opts.findings->push_back({core::Severity::Error, "migration.invalid_utf8", subject, msg,
	                          "Save the file as UTF-8 (iconv -f LATIN1 -t UTF-8), without NUL bytes."});
	return repaired(text);
}

bool ends_with(const std::string &s, const std::string &suf) {
	return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

}  // namespace

nlohmann::json read_folder_unchecked(const std::string &dir, const ReadOptions &opts);

namespace {

nlohmann::json read_folder_once(const std::string &dir, const ReadOptions &opts) {
	try {
		return read_folder_unchecked(dir, opts);
	} catch (const fs::filesystem_error &e) {
		std::string what = e.code().message();
		throw FolderError(fmt::format("cannot read {}: {}", e.path1().empty() ? dir : e.path1().string(), what), true);
	}
}

// share_folder_reads(): one read per (directory, snapshots, findings wanted).
struct SharedRead {
	bool ok = false;
	nlohmann::json payload;
	std::vector<core::Finding> findings;
	std::string error;
	bool bad_content = false;
};
std::atomic<bool> sharing{false};
std::mutex shared_mutex;
std::map<std::tuple<std::string, bool, bool>, SharedRead> shared_reads;

}  // namespace

bool folder_reads_shared() { return sharing; }

void share_folder_reads(bool on) {
	std::lock_guard<std::mutex> lock(shared_mutex);
	sharing = on;
	if (!on)
		shared_reads.clear();
}

nlohmann::json read_folder(const std::string &dir, const ReadOptions &opts) {
	if (!sharing)
		return read_folder_once(dir, opts);
	std::lock_guard<std::mutex> lock(shared_mutex);
	auto key = std::make_tuple(dir, opts.snapshots, opts.findings != nullptr);
	auto it = shared_reads.find(key);
	if (it == shared_reads.end()) {
		SharedRead r;
		ReadOptions o = opts;
		o.findings = opts.findings ? &r.findings : nullptr;
		try {
			r.payload = read_folder_once(dir, o);
			r.ok = true;
		} catch (const FolderError &e) {
			r.error = e.what();
			r.bad_content = e.bad_content;
		}
		it = shared_reads.emplace(key, std::move(r)).first;
	}
	if (!it->second.ok)
		throw FolderError(it->second.error, it->second.bad_content);
	if (opts.findings)
		opts.findings->insert(opts.findings->end(), it->second.findings.begin(), it->second.findings.end());
	return it->second.payload;
}

namespace {

// The entries of a directory as (name, is a regular file, is a directory, is a
// symbolic link, is something else), with readdir's d_type (a stat only when the
// filesystem gives none, or for a symbolic link, which is followed as
// std::filesystem's status() does). Plain strings: std::filesystem::path splits
// every path it builds into components, and 10,000 of them were a quarter of a
// cached `status --dir`.
struct DirEntry {
	std::string name;
	bool file = false, dir = false;
	bool link = false;   // a symbolic link (file and dir say what it points to)
	bool other = false;  // exists, but neither a regular file nor a directory (FIFO, device, socket)
	mode_t mode = 0;     // of what it is (or points to), when it exists
};
std::vector<DirEntry> entries_of(const std::string &dir) {
	DIR *d = ::opendir(dir.c_str());
	if (!d)
		throw fs::filesystem_error("cannot open directory", fs::path(dir), std::error_code(errno, std::generic_category()));
	struct CloseDir {
		DIR *d;
		~CloseDir() { ::closedir(d); }
	} closer{d};
	std::vector<DirEntry> out;
	for (;;) {
		errno = 0;
		struct dirent *e = ::readdir(d);
		if (!e) {
			if (errno)
				throw fs::filesystem_error("cannot read directory", fs::path(dir),
				                           std::error_code(errno, std::generic_category()));
			break;
		}
		if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
			continue;
		DirEntry x{e->d_name};
		if (e->d_type == DT_REG || e->d_type == DT_DIR) {
			x.file = e->d_type == DT_REG;
			x.dir = e->d_type == DT_DIR;
			x.mode = e->d_type == DT_REG ? S_IFREG : S_IFDIR;
		} else {
			struct stat st {};
			x.link = e->d_type == DT_LNK;
			if (e->d_type == DT_UNKNOWN && ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				x.link = S_ISLNK(st.st_mode);
			if (::fstatat(::dirfd(d), e->d_name, &st, 0) == 0) {
				x.file = S_ISREG(st.st_mode);
				x.dir = S_ISDIR(st.st_mode);
				x.other = !x.file && !x.dir;
				x.mode = st.st_mode;
			} else if (errno != ENOENT && errno != ENOTDIR) {
				// as std::filesystem::status(): a dangling link is no file, a loop (ELOOP)
				// or a permission error is an error naming it
				throw fs::filesystem_error("cannot stat", fs::path(dir) / e->d_name,
				                           std::error_code(errno, std::generic_category()));
			}
		}
		out.push_back(std::move(x));
	}
	return out;
}

// One path as entries_of() describes an entry (name left empty); absent (or a
// dangling link) when nothing is there.
DirEntry probe(const std::string &path) {
	DirEntry x;
	struct stat st {};
	bool seen = ::lstat(path.c_str(), &st) == 0;
	x.link = seen && S_ISLNK(st.st_mode);
	if (seen && x.link)
		seen = ::stat(path.c_str(), &st) == 0;
	if (!seen) {
		if (errno == ENOENT || errno == ENOTDIR)  // nothing there, or a dangling link: absent
			return x;
		throw fs::filesystem_error("cannot stat", fs::path(path), std::error_code(errno, std::generic_category()));
	}
	x.file = S_ISREG(st.st_mode);
	x.dir = S_ISDIR(st.st_mode);
	x.other = !x.file && !x.dir;
	x.mode = st.st_mode;
	return x;
}

// "is a FIFO, not a regular file"
std::string not_regular(mode_t m) {
	const char *kind = S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
	                                          : S_ISSOCK(m) ? "a socket" : nullptr;
	return kind ? fmt::format("is {}, not a regular file", kind) : "is not a regular file";
}

std::string real_path(const std::string &p) {
	char *r = ::realpath(p.c_str(), nullptr);
	if (!r)
		throw fs::filesystem_error("cannot resolve", fs::path(p), std::error_code(errno, std::generic_category()));
	std::string out(r);
	std::free(r);
	return out;
}

}  // namespace

std::vector<FolderFile> list_folder(const std::string &dir, bool snapshots) {
	std::error_code ec;
	if (!fs::is_directory(dir, ec))
		throw FolderError(fmt::format("migrations folder {} does not exist or is not a directory", dir));
	// what to ship: (path on disk, name in the payload)
	std::vector<FolderFile> out;
	std::string root = dir;
	if (root.size() > 1 && root.back() == '/')
		root.pop_back();
	std::string prefix = root == "/" ? root : root + "/";
	// Nothing is read before every file to ship has passed these checks: a file reached through a
	// symbolic link (its own, or its directory's) must resolve inside the folder, so that a link
	// committed to the repository never ships a file of the deploy host (~/.pgpass) to the server,
	// its log and the error output; and it must be a regular file (reading a FIFO blocks, a
	// device never ends). A link that stays inside the folder is followed.
	std::string real_root;  // resolved when the first link is seen
	auto want = [&](std::string p, std::string name, const DirEntry &x, bool through_link) {
		if (x.link || through_link) {
			if (real_root.empty())
				real_root = real_path(root);
			std::string target = real_path(p);
			std::string inside = real_root == "/" ? real_root : real_root + "/";
			if (target.compare(0, inside.size(), inside) != 0)
				throw FolderError(fmt::format("{} is a symbolic link to {}, outside the migrations folder {}: refused, "
				                              "nothing was read or applied; replace the link by the file itself (or "
				                              "copy the file into the folder)",
				                              p, target, real_root),
				                  true);
		}
		if (x.other)
			throw FolderError(fmt::format("{} {}: refused, nothing was read or applied; migrations, down files, the "
			                              "journal and snapshots must be regular files",
			                              p, not_regular(x.mode)),
			                  true);
		size_t bad = 0;
		if (!core::valid_utf8(name, &bad))  // JSON carries UTF-8 names only, as the server expects
			throw FolderError(fmt::format("{}: the file name is not valid UTF-8 (byte {}); rename the file", p, bad), true);
		out.push_back({std::move(p), std::move(name)});
	};
	DirEntry meta = probe(prefix + "meta");
	std::string journal = prefix + "meta/_journal.json";
	// a permission error throws instead of calling the journal absent; a directory is no journal
	if (DirEntry j = probe(journal); j.file || j.other)
		want(journal, "meta/_journal.json", j, meta.link);
	std::vector<DirEntry> entries = entries_of(root);
	out.reserve(entries.size() + 1);
	for (DirEntry &e : entries) {
		if ((e.file || e.other) && ends_with(e.name, ".sql")) {
			std::string path = prefix + e.name;
			want(std::move(path), e.name, e, false);
		} else if (e.dir && e.name != "meta") {
			std::string sub = prefix + e.name + "/";
			for (const char *file : {"migration.sql", "down.sql", "snapshot.json"}) {  // drizzle-kit 1.0 layout
				if (!snapshots && std::strcmp(file, "snapshot.json") == 0)
					continue;
				if (DirEntry x = probe(sub + file); x.file || x.other)
					want(sub + file, e.name + "/" + file, x, e.link);
			}
		}
	}
	if (snapshots && meta.dir) {
		for (DirEntry &e : entries_of(prefix + "meta"))
			if ((e.file || e.other) && ends_with(e.name, "_snapshot.json"))
				want(prefix + "meta/" + e.name, "meta/" + e.name, e, meta.link);
	}
	return out;
}

nlohmann::json read_folder_unchecked(const std::string &dir, const ReadOptions &opts) {
	std::vector<std::string> paths;
	std::vector<std::string> names;
	for (auto &f : list_folder(dir, opts.snapshots)) {
		paths.push_back(std::move(f.path));
		names.push_back(std::move(f.name));
	}
	std::vector<std::string> texts = slurp_all(paths);
	nlohmann::json payload;
	payload["files"] = nlohmann::json::object();
	auto &files = payload["files"];
	for (size_t i = 0; i < paths.size(); ++i) {
		if (names[i] == "meta/_journal.json")
			payload["journal"] = checked(std::move(texts[i]), names[i], opts);
		else
			files[names[i]] = checked(std::move(texts[i]), names[i], opts);
	}
	return payload;
}

}  // namespace dbkit::client

namespace dbkit::client {

namespace {

void append_json(std::string &out, const nlohmann::json &j) {
	if (j.is_string()) {
		core::append_json_quoted(out, j.get_ref<const std::string &>());
	} else if (j.is_object()) {
		out += '{';
		bool first = true;
		for (const auto &[k, v] : j.items()) {
			if (!first)
				out += ',';
			first = false;
			core::append_json_quoted(out, k);
			out += ':';
			append_json(out, v);
		}
		out += '}';
	} else {
		out += j.dump();
	}
}

}  // namespace

std::string payload_text(const nlohmann::json &payload) {
	std::string out;
	out.reserve(4096);
	append_json(out, payload);
	return out;
}

core::FolderInput folder_input(const nlohmann::json &payload) {
	core::FolderInput in;
	if (auto j = payload.find("journal"); j != payload.end() && j->is_string())
		in.journal = j->get_ref<const std::string &>();
	for (const auto &[name, content] : payload.at("files").items())
		in.files.emplace_back(name, content.get_ref<const std::string &>());
	return in;
}

}  // namespace dbkit::client
