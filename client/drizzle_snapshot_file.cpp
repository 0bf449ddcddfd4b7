#include "drizzle_snapshot_file.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace dbkit::client {

std::string uuid_v4() {
	std::random_device rd;  // /dev/urandom on Linux
	unsigned char b[16];
	for (size_t i = 0; i < sizeof b; i += 4) {
		uint32_t v = rd();
		for (size_t k = 0; k < 4; ++k)
			b[i + k] = static_cast<unsigned char>(v >> (8 * k));
	}
	b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
	b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10
	std::string out;
	for (size_t i = 0; i < sizeof b; ++i) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out += '-';
		out += fmt::format("{:02x}", b[i]);
	}
	return out;
}

bool is_uuid(const std::string &s) {
	if (s.size() != 36)
		return false;
	for (size_t i = 0; i < s.size(); ++i) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])))
			return false;
	}
	return true;
}

std::string snapshot_file_name(size_t idx) { return fmt::format("{:04d}_snapshot.json", idx); }

std::optional<std::string> newest_snapshot_name(std::vector<std::string> meta_entries) {
	meta_entries.erase(std::remove_if(meta_entries.begin(), meta_entries.end(),
	                                  [](const std::string &n) { return n.empty() || n[0] == '_'; }),
	                   meta_entries.end());
	if (meta_entries.empty())
		return std::nullopt;
	return *std::max_element(meta_entries.begin(), meta_entries.end());
}

std::string snapshot_id(const std::string &text, const std::string &file) {
	auto j = nlohmann::json::parse(text, nullptr, false);
	if (j.is_discarded() || !j.is_object())
		throw SnapshotError(fmt::format("{} is not JSON", file));
	auto id = j.find("id");
	if (id == j.end() || !id->is_string() || !is_uuid(id->get<std::string>()))
		throw SnapshotError(fmt::format("{} has no \"id\" (a uuid)", file));
	return id->get<std::string>();
}

std::string snapshot_text(const nlohmann::ordered_json &body, const std::string &id, const std::string &prev_id) {
	static const char *order[] = {"version", "dialect", "tables", "enums", "schemas", "sequences",
	                              "roles", "policies", "views", "_meta"};
	nlohmann::ordered_json out;
	out["id"] = id;
	out["prevId"] = prev_id;
	for (const char *k : order)
		if (body.contains(k))
			out[k] = body[k];
	for (const auto &[k, v] : body.items())
		if (k != "id" && k != "prevId" && !out.contains(k))
			out[k] = v;
	return out.dump(2);
}

std::vector<std::pair<std::string, std::string>> snapshot_chain(size_t count, const std::string &prev_id) {
	std::vector<std::pair<std::string, std::string>> out;
	std::string prev = prev_id;
	for (size_t i = 0; i < count; ++i) {
		std::string id = uuid_v4();
		out.emplace_back(id, prev);
		prev = id;
	}
	return out;
}

}  // namespace dbkit::client
