#include "folder_reader.hpp"
#include "parallel_for.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
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

// A whole file with plain POSIX calls: 10,000 small files through ifstream
// cost twice as much (a FILE and its buffer per file). Returns errno, 0 if read.
int slurp(const std::string &p, std::string &out) {
	int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st {};
	if (::fstat(fd, &st) == 0 && st.st_size > 0)
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
			throw FolderError(fmt::format("cannot read {}: {}", paths[i], std::strerror(errs[i])), true);
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

// The entries of a directory as (name, is a regular file, is a directory), with
// readdir's d_type (a stat only when the filesystem gives none, or for a
// symbolic link, which is followed as std::filesystem's status() does). Plain
// strings: std::filesystem::path splits every path it builds into components,
// and 10,000 of them were a quarter of a cached `status --dir`.
struct DirEntry {
	std::string name;
	bool file = false, dir = false;
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
		} else {
			struct stat st {};
			if (::fstatat(::dirfd(d), e->d_name, &st, 0) == 0) {
				x.file = S_ISREG(st.st_mode);
				x.dir = S_ISDIR(st.st_mode);
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

bool is_regular(const std::string &path) {
	struct stat st {};
	return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

std::vector<FolderFile> list_folder(const std::string &dir, bool snapshots) {
	std::error_code ec;
	if (!fs::is_directory(dir, ec))
		throw FolderError(fmt::format("migrations folder {} does not exist or is not a directory", dir));
	// what to ship: (path on disk, name in the payload)
	std::vector<FolderFile> out;
	auto want = [&](std::string p, std::string name) {
		size_t bad = 0;
		if (!core::valid_utf8(name, &bad))  // JSON carries UTF-8 names only, as the server expects
			throw FolderError(fmt::format("{}: the file name is not valid UTF-8 (byte {}); rename the file", p, bad), true);
		out.push_back({std::move(p), std::move(name)});
	};
	std::string root = dir;
	if (root.size() > 1 && root.back() == '/')
		root.pop_back();
	std::string prefix = root == "/" ? root : root + "/";
	std::string journal = prefix + "meta/_journal.json";
	if (fs::is_regular_file(journal))  // throws on a permission error instead of calling it absent
		want(journal, "meta/_journal.json");
	std::vector<DirEntry> entries = entries_of(root);
	out.reserve(entries.size() + 1);
	for (DirEntry &e : entries) {
		if (e.file && ends_with(e.name, ".sql")) {
			std::string path = prefix + e.name;
			want(std::move(path), std::move(e.name));
		} else if (e.dir && e.name != "meta") {
			std::string sub = prefix + e.name + "/";
			if (is_regular(sub + "migration.sql"))
				want(sub + "migration.sql", e.name + "/migration.sql");
			if (is_regular(sub + "down.sql"))  // drizzle-kit 1.0 layout: the migration's down file
				want(sub + "down.sql", e.name + "/down.sql");
			if (snapshots && is_regular(sub + "snapshot.json"))
				want(sub + "snapshot.json", e.name + "/snapshot.json");
		}
	}
	if (snapshots && fs::is_directory(prefix + "meta", ec)) {
		for (DirEntry &e : entries_of(prefix + "meta"))
			if (e.file && ends_with(e.name, "_snapshot.json"))
				want(prefix + "meta/" + e.name, "meta/" + e.name);
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
