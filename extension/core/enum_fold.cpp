#include "enum_fold.hpp"

#include <algorithm>
#include <cctype>

namespace dbkit::core {

std::optional<std::vector<std::string>> fold_enum_labels(std::vector<std::string> labels,
                                                         const std::vector<EnumAdd> &adds) {
	for (const EnumAdd &a : adds) {
		if (std::find(labels.begin(), labels.end(), a.value) != labels.end()) {
			if (a.if_not_exists)
				continue;
			return std::nullopt;
		}
		if (!a.neighbor) {
			labels.push_back(a.value);
			continue;
		}
		auto at = std::find(labels.begin(), labels.end(), *a.neighbor);
		if (at == labels.end())
			return std::nullopt;
		labels.insert(a.before ? at : at + 1, a.value);
	}
	return labels;
}

namespace {
// upper case, runs of white space as one space, none around ';'
std::string normalized(const std::string &s) {
	std::string out;
	bool space = false;
	for (char c : s) {
		if (std::isspace(static_cast<unsigned char>(c))) {
			space = true;
			continue;
		}
		if (space && !out.empty() && out.back() != ';' && c != ';')
			out += ' ';
		space = false;
		out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
	}
	return out;
}
}  // namespace

std::optional<std::string> enum_in_do_block(const std::string &body) {
	auto create = statement_in_do_block(body);
	if (!create || normalized(*create).rfind("CREATE TYPE ", 0) != 0 ||
	    normalized(*create).find(" AS ENUM") == std::string::npos)
		return std::nullopt;
	return create;
}

std::optional<std::string> do_block_body(const std::string &statement) {
	std::string upper = normalized(statement);
	if (upper.rfind("DO ", 0) != 0 && upper.rfind("DO$", 0) != 0)
		return std::nullopt;
	size_t open = statement.find('$');
	if (open == std::string::npos)
		return std::nullopt;
	size_t close = statement.find('$', open + 1);
	if (close == std::string::npos)
		return std::nullopt;
	std::string tag = statement.substr(open, close - open + 1);
	for (size_t k = 1; k + 1 < tag.size(); ++k)
		if (!std::isalnum(static_cast<unsigned char>(tag[k])) && tag[k] != '_')
			return std::nullopt;
	size_t end = statement.find(tag, close + 1);
	if (end == std::string::npos)
		return std::nullopt;
	return statement.substr(close + 1, end - close - 1);
}

std::optional<std::string> statement_in_do_block(const std::string &body) {
	std::string upper = normalized(body);
	if (upper.rfind("BEGIN ", 0) != 0)
		return std::nullopt;
	// the statement: up to the first ";" outside quotes
	size_t start = 0;
	while (start < body.size() && std::isspace(static_cast<unsigned char>(body[start])))
		++start;
	start += 5;  // BEGIN
	while (start < body.size() && std::isspace(static_cast<unsigned char>(body[start])))
		++start;
	size_t end = start;
	char quote = 0;
	for (; end < body.size(); ++end) {
		char c = body[end];
		if (quote) {
			if (c == quote)
				quote = 0;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == ';') {
			break;
		}
	}
	if (end >= body.size())
		return std::nullopt;
	std::string create = body.substr(start, end - start);
	if (normalized(create).empty())
		return std::nullopt;
	std::string rest = normalized(body.substr(end + 1));
	if (rest != "EXCEPTION WHEN DUPLICATE_OBJECT THEN NULL;END" && rest != "EXCEPTION WHEN DUPLICATE_OBJECT THEN NULL;END;")
		return std::nullopt;
	return create;
}

}  // namespace dbkit::core
