#include "markers.hpp"

#include <cctype>
#include <string>

namespace dbkit::core {

namespace {

std::string lower(std::string_view s) {
	std::string out(s);
	for (auto &c : out)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	return out;
}

// The value after `key` up to the end of the comment's word.
std::optional<std::string_view> value_after(std::string_view line, std::string_view key) {
	size_t at = line.find(key);
	if (at == std::string_view::npos)
		return std::nullopt;
	size_t b = at + key.size();
	size_t e = b;
	while (e < line.size() && !std::isspace(static_cast<unsigned char>(line[e])))
		++e;
	return line.substr(b, e - b);
}

}  // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text) {
	size_t i = 0;
	int64_t n = 0;
	if (text.empty())
		return std::nullopt;
	while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
		n = n * 10 + (text[i++] - '0');
	if (i == 0 || n > 100000000000LL)
		return std::nullopt;
	std::string unit = lower(text.substr(i));
	if (unit.empty() || unit == "ms")
		return n;
	if (unit == "s" || unit == "sec")
		return n * 1000;
	if (unit == "min" || unit == "m")
		return n * 60000;
	if (unit == "h")
		return n * 3600000;
	return std::nullopt;
}

Markers read_markers(std::string_view sql) {
	Markers m;
	size_t pos = 0;
	while (pos < sql.size()) {
		size_t nl = sql.find('\n', pos);
		std::string_view line = sql.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
		pos = nl == std::string_view::npos ? sql.size() : nl + 1;
		size_t dash = line.find("--");
		if (dash == std::string_view::npos)
			continue;
		std::string comment = lower(line.substr(dash + 2));
		if (comment.find("dbkit:no-transaction") != std::string::npos ||
		    comment.find("atlas:txmode none") != std::string::npos ||
		    comment.find("+goose no transaction") != std::string::npos ||
		    comment.find("transaction:false") != std::string::npos)
			m.no_transaction = true;
		if (comment.find("dbkit:irreversible") != std::string::npos)
			m.irreversible = true;
		if (auto v = value_after(comment, "dbkit:lock_timeout="))
			m.lock_timeout_ms = parse_duration_ms(*v);
		if (auto v = value_after(comment, "dbkit:statement_timeout="))
			m.statement_timeout_ms = parse_duration_ms(*v);
	}
	return m;
}

}  // namespace dbkit::core
