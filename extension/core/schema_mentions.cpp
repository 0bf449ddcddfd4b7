#include "schema_mentions.hpp"

#include <cctype>
#include <vector>

namespace dbkit::core {

namespace {

struct Token {
	std::string text;   // an identifier's name (unquoted: lower case), or the punctuation
	bool ident = false;
	bool quoted = false;
};

bool ident_start(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool ident_part(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

std::vector<Token> tokens(std::string_view s) {
	std::vector<Token> out;
	size_t i = 0, n = s.size();
	while (i < n) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		if (std::isspace(c)) {
			++i;
		} else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
			while (i < n && s[i] != '\n')
				++i;
		} else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			size_t end = s.find("*/", i + 2);
			i = end == std::string_view::npos ? n : end + 2;
		} else if (c == '\'') {  // a literal (E'' escapes are rare in DDL; a stray quote ends early)
			++i;
			while (i < n) {
				if (s[i] == '\'' && i + 1 < n && s[i + 1] == '\'')
					i += 2;
				else if (s[i] == '\'') {
					++i;
					break;
				} else
					++i;
			}
			out.push_back({"'", false, false});
		} else if (c == '$') {  // $tag$: read through, the body is code too
			size_t j = i + 1;
			while (j < n && ident_part(static_cast<unsigned char>(s[j])) && s[j] != '$')
				++j;
			i = j < n && s[j] == '$' ? j + 1 : i + 1;
			out.push_back({"$", false, false});
		} else if (c == '"') {
			std::string name;
			++i;
			while (i < n) {
				if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
					name += '"';
					i += 2;
				} else if (s[i] == '"') {
					++i;
					break;
				} else
					name += s[i++];
			}
			out.push_back({name, true, true});
		} else if (ident_start(c)) {
			std::string name;
			while (i < n && ident_part(static_cast<unsigned char>(s[i])))
				name += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i++])));
			out.push_back({name, true, false});
		} else if (std::isdigit(c)) {
			while (i < n && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.'))
				++i;
			out.push_back({"0", false, false});
		} else {
			out.push_back({std::string(1, static_cast<char>(c)), false, false});
			++i;
		}
	}
	return out;
}

bool kw(const Token &t, const char *word) { return t.ident && !t.quoted && t.text == word; }

}  // namespace

void add_schema_mentions(std::string_view sql, SchemaMentions &into) {
	std::vector<Token> t = tokens(sql);
	for (size_t k = 0; k + 2 < t.size(); ++k)
		if (t[k].ident && t[k + 1].text == "." && !t[k + 1].ident && t[k + 2].ident) {
			into.named.insert(t[k].text);
			into.referenced[t[k].text].insert(t[k + 2].text);
		}
	// ALTER SCHEMA x RENAME TO y: y is the sources' own too (eikona-io/api renames one of
	// its schemas; taken for a platform's, it was copied and the rename collided)
	for (size_t k = 0; k + 5 < t.size(); ++k)
		if (kw(t[k], "alter") && kw(t[k + 1], "schema") && t[k + 2].ident && kw(t[k + 3], "rename") &&
		    kw(t[k + 4], "to") && t[k + 5].ident) {
			into.created.insert(t[k + 5].text);
			into.created_if_absent.erase(t[k + 5].text);
		}
	for (size_t k = 0; k + 1 < t.size(); ++k) {
		if (!kw(t[k], "create"))
			continue;
		size_t j = k + 1;
		if (j + 1 < t.size() && kw(t[j], "or") && kw(t[j + 1], "replace"))
			j += 2;
		while (j < t.size() && (kw(t[j], "unlogged") || kw(t[j], "temporary") || kw(t[j], "temp") ||
		                        kw(t[j], "materialized") || kw(t[j], "recursive") || kw(t[j], "unique")))
			++j;
		if (j >= t.size())
			break;
		const bool schema = kw(t[j], "schema");
		if (!schema && !kw(t[j], "table") && !kw(t[j], "view") && !kw(t[j], "function") && !kw(t[j], "procedure") &&
		    !kw(t[j], "type") && !kw(t[j], "sequence") && !kw(t[j], "domain") && !kw(t[j], "index"))
			continue;
		++j;
		bool if_absent = false;
		if (j + 2 < t.size() && kw(t[j], "if") && kw(t[j + 1], "not") && kw(t[j + 2], "exists")) {
			j += 3;
			if_absent = true;
		}
		if (schema && j + 1 < t.size() && kw(t[j], "authorization"))
			++j;  // CREATE SCHEMA AUTHORIZATION role: named for the role
		if (j >= t.size() || !t[j].ident)
			continue;
		if (schema) {
			if (!if_absent)
				into.created_if_absent.erase(t[j].text);
			else if (!into.created.count(t[j].text))
				into.created_if_absent.insert(t[j].text);
			into.created.insert(t[j].text);
		}
		else if (j + 2 < t.size() && t[j + 1].text == "." && t[j + 2].ident)
			into.objects[t[j].text].insert(t[j + 2].text);
	}
}

std::set<std::string> used_not_made(const SchemaMentions &m, const std::string &x) {
	std::set<std::string> out;
	auto used = m.referenced.find(x);
	if (used == m.referenced.end())
		return out;
	auto made = m.objects.find(x);
	for (const std::string &y : used->second)
		if (made == m.objects.end() || !made->second.count(y))
			out.insert(y);
	return out;
}

}  // namespace dbkit::core
