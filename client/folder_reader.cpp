#include "folder_reader.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/text.hpp"

namespace fs = std::filesystem;

namespace dbkit::client {

namespace {

std::string slurp(const fs::path &p) {
	std::ifstream in(p, std::ios::binary);
	if (!in)
		throw FolderError(fmt::format("cannot read {}: {}", p.string(), std::strerror(errno)), true);
	std::ostringstream ss;
	ss << in.rdbuf();
	return ss.str();
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

std::string checked(const fs::path &p, const std::string &rel, const ReadOptions &opts) {
	std::string text = slurp(p);
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

nlohmann::json read_folder(const std::string &dir, const ReadOptions &opts) {
	try {
		return read_folder_unchecked(dir, opts);
	} catch (const fs::filesystem_error &e) {
		std::string what = e.code().message();
		throw FolderError(fmt::format("cannot read {}: {}", e.path1().empty() ? dir : e.path1().string(), what), true);
	}
}

nlohmann::json read_folder_unchecked(const std::string &dir, const ReadOptions &opts) {
	fs::path root(dir);
	std::error_code ec;
	if (!fs::is_directory(root, ec))
		throw FolderError(fmt::format("migrations folder {} does not exist or is not a directory", dir));
	nlohmann::json payload;
	payload["files"] = nlohmann::json::object();
	auto &files = payload["files"];
	fs::path journal = root / "meta" / "_journal.json";
	if (fs::is_regular_file(journal))  // throws on a permission error instead of calling it absent
		payload["journal"] = checked(journal, "meta/_journal.json", opts);
	for (const auto &e : fs::directory_iterator(root)) {
		std::string name = e.path().filename().string();
		if (e.is_regular_file() && ends_with(name, ".sql")) {
			files[name] = checked(e.path(), name, opts);
		} else if (e.is_directory() && name != "meta") {
			fs::path sql = e.path() / "migration.sql";
			if (fs::is_regular_file(sql, ec))
				files[name + "/migration.sql"] = checked(sql, name + "/migration.sql", opts);
			fs::path snap = e.path() / "snapshot.json";
			if (opts.snapshots && fs::is_regular_file(snap, ec))
				files[name + "/snapshot.json"] = checked(snap, name + "/snapshot.json", opts);
		}
	}
	if (opts.snapshots && fs::is_directory(root / "meta", ec)) {
		for (const auto &e : fs::directory_iterator(root / "meta")) {
			std::string name = e.path().filename().string();
			if (e.is_regular_file() && ends_with(name, "_snapshot.json"))
				files["meta/" + name] = checked(e.path(), "meta/" + name, opts);
		}
	}
	return payload;
}

}  // namespace dbkit::client

namespace dbkit::client {

core::FolderInput folder_input(const nlohmann::json &payload) {
	core::FolderInput in;
	if (auto j = payload.find("journal"); j != payload.end() && j->is_string())
		in.journal = j->get_ref<const std::string &>();
	for (const auto &[name, content] : payload.at("files").items())
		in.files.emplace_back(name, content.get_ref<const std::string &>());
	return in;
}

}  // namespace dbkit::client
