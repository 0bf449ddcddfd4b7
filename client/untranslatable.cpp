#include "untranslatable.hpp"

#include <cctype>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dbkit::client {

std::string untranslatable_bytes(std::string_view message) {
	constexpr std::string_view kLead = "byte sequence ";
	size_t at = message.find(kLead);
	if (at == std::string_view::npos || message.find("has no equivalent in encoding") == std::string_view::npos)
		return {};
	std::string bytes;
	size_t i = at + kLead.size();
	while (i + 3 < message.size() && message[i] == '0' && message[i + 1] == 'x' &&
	       std::isxdigit(static_cast<unsigned char>(message[i + 2])) &&
	       std::isxdigit(static_cast<unsigned char>(message[i + 3]))) {
		bytes.push_back(static_cast<char>(std::strtol(std::string(message.substr(i + 2, 2)).c_str(), nullptr, 16)));
		i += 4;
		if (i < message.size() && message[i] == ' ')
			++i;
	}
	return bytes;
}

namespace {

std::optional<UntranslatableAt> locate(const std::string &file, std::string_view text, std::string_view bytes) {
	size_t at = text.find(bytes);
	if (at == std::string_view::npos)
		return std::nullopt;
	UntranslatableAt u;
	u.file = file;
	u.line = 1;
	u.column = 1;
	for (size_t i = 0; i < at; ++i) {
		if (text[i] == '\n')
			u.line++, u.column = 1;
		else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80)  // not a UTF-8 continuation byte
			u.column++;
	}
	u.character = std::string(bytes);
	u.bom = at == 0 && bytes == "\xEF\xBB\xBF";
	return u;
}

}  // namespace

// A payload's strings: the journal, then each file by its name (under "files", or
// any other object: a schema's sources); a string outside any object has no name.
void walk(const nlohmann::json &j, const std::string &name, std::string_view bytes,
          std::vector<UntranslatableAt> &found) {
	if (j.is_string()) {
		if (auto u = locate(name, j.get_ref<const std::string &>(), bytes))
			found.push_back(*u);
	} else if (j.is_object()) {
		for (const auto &[key, value] : j.items()) {
			if (key.find(bytes) != std::string::npos) {
				UntranslatableAt u;
				u.file = key;
				u.character = std::string(bytes);
				u.in_name = true;
				found.push_back(u);
			}
			walk(value, key == "journal" ? "meta/_journal.json" : key == "reason" ? "--reason" : key, bytes, found);
		}
	} else if (j.is_array()) {
		for (const auto &value : j)
			walk(value, name, bytes, found);
	}
}

std::vector<UntranslatableAt> find_untranslatable(std::string_view param, std::string_view bytes) {
	std::vector<UntranslatableAt> found;
	if (bytes.empty() || param.find(bytes) == std::string_view::npos)
		return found;
	auto payload = nlohmann::json::parse(param, nullptr, false);
	if (payload.is_discarded()) {  // a parameter that is text itself (one statement)
		if (auto u = locate("", param, bytes))
			found.push_back(*u);
		return found;
	}
	walk(payload, "", bytes, found);
	return found;
}

namespace {

std::string hex_bytes(std::string_view bytes) {
	std::string out;
	for (unsigned char b : bytes)
		out += fmt::format("{}{:02X}", out.empty() ? "" : " ", b);
	return out;
}

std::string where(const UntranslatableAt &u) {
	if (u.in_name)
		return fmt::format("the file name {}", u.file);
	return u.file.empty() ? fmt::format("line {}, column {}", u.line, u.column)
	                      : fmt::format("{}, line {}, column {}", u.file, u.line, u.column);
}

}  // namespace

void explain_untranslatable(ServerError &err, const std::vector<std::string> &params,
                            const std::vector<std::string> &labels) {
	std::string bytes = untranslatable_bytes(err.message);
	std::vector<UntranslatableAt> found;
	for (size_t i = 0; i < params.size() && found.empty(); ++i) {
		found = find_untranslatable(params[i], bytes);
		if (i < labels.size() && !labels[i].empty())
			for (auto &u : found)
				if (u.file.empty())
					u.file = labels[i];
	}
	if (found.empty())
		return;
	std::string encoding = "this one";
	size_t e = err.message.rfind("in encoding \"");
	if (e != std::string::npos) {
		size_t start = e + 13, end = err.message.find('"', start);
		if (end != std::string::npos)
			encoding = err.message.substr(start, end - start);
	}
	const UntranslatableAt &first = found.front();
	bool payload = !first.file.empty();
	std::string nothing = payload ? " Nothing was applied." : "";
	if (first.bom) {
		err.message = fmt::format("{} starts with a UTF-8 byte-order mark (bytes EF BB BF), which a database "
		                          "encoded as {} cannot hold",
		                          first.file, encoding);
		err.hint = "Save the file as UTF-8 without a byte-order mark (every editor can)." + nothing;
	} else {
		err.message = fmt::format("{}: the character \"{}\" (UTF-8 bytes {}) has no equivalent in this database's "
		                          "encoding, {}",
		                          first.file == "--reason" && !first.in_name ? "the --reason text, column " +
		                                                                           std::to_string(first.column)
		                                                                     : where(first),
		                          first.character, hex_bytes(first.character), encoding);
		if (first.file == "--reason")
			err.hint = fmt::format("The history keeps the reason in the database: write it with characters {} holds. "
			                       "Nothing was applied or recorded.",
			                       encoding);
		else if (first.in_name)
			err.hint = fmt::format("Rename it to characters {} holds (the history keeps migrations' names in the "
			                       "database), or keep this schema in a UTF8 database.{}",
			                       encoding, nothing);
		else
			err.hint = fmt::format("dbkit sends each file whole, its comments too, and PostgreSQL converts it to {} "
			                       "before anything runs: replace or remove the character (in a comment as well), or "
			                       "keep this schema in a UTF8 database.{}",
			                       encoding, nothing);
	}
	if (found.size() > 1) {
		err.detail = "The same character is also in:";
		for (size_t i = 1; i < found.size() && i < 10; ++i)
			err.detail += "\n  " + where(found[i]);
		if (found.size() > 10)
			err.detail += fmt::format("\n  ... and {} more files", found.size() - 10);
	}
	err.context.clear();  // "unnamed portal parameter $1": the file is named now
}

}  // namespace dbkit::client
