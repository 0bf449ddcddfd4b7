#include "fleet_targets.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>

#include <fmt/format.h>

namespace dbkit::client::fleet {

namespace {

std::string trimmed(const std::string &s) {
	const char *ws = " \t\r\n\f\v";
	size_t b = s.find_first_not_of(ws);
	if (b == std::string::npos)
		return "";
	return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool is_uri(const std::string &s) { return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0; }

// libpq's parse errors quote the offending text, which can be part of a
// password (a whole URI, a bad %-escape): every quoted span longer than one
// character becomes "...".
std::string without_quoted_text(std::string msg) {
	while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
		msg.pop_back();
	std::string out;
	for (size_t i = 0; i < msg.size();) {
		size_t open = msg.find('"', i);
		if (open == std::string::npos) {
			out += msg.substr(i);
			break;
		}
		size_t close = msg.find('"', open + 1);
		if (close == std::string::npos) {  // no closing quote: drop the rest
			out += msg.substr(i, open - i) + "\"...";
			break;
		}
		out += msg.substr(i, open - i);
		out += close - open - 1 <= 1 ? msg.substr(open, close - open + 1) : std::string("\"...\"");
		i = close + 1;
	}
	return out;
}

bool secret(const std::string &keyword) { return keyword == "password" || keyword == "sslpassword"; }

// A value as a key=value connection string writes it: quoted when needed.
std::string conninfo_value(const std::string &v) {
	bool plain = !v.empty() && v.find_first_of(" \t\n\r\f\v'\\") == std::string::npos;
	if (plain)
		return v;
	std::string out = "'";
	for (char c : v) {
		if (c == '\'' || c == '\\')
			out += '\\';
		out += c;
	}
	return out + "'";
}

using Options = std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)>;

// The options the string sets (libpq fills in no defaults here), or why not.
Options parse(const std::string &conninfo, std::string &why) {
	char *err = nullptr;
	Options opts(PQconninfoParse(conninfo.c_str(), &err), PQconninfoFree);
	if (!opts)
		why = err ? without_quoted_text(err) : "out of memory";
	if (err)
		PQfreemem(err);
	return opts;
}

// key=value, the usual coordinates first (service, host, port, dbname, user), then
// the rest in libpq's order; `mask` writes passwords as ***.
std::string render(const PQconninfoOption *opts, bool mask) {
	static const char *first[] = {"service", "host", "hostaddr", "port", "dbname", "user"};
	std::vector<const PQconninfoOption *> set;
	for (const PQconninfoOption *o = opts; o->keyword; ++o)
		if (o->val)
			set.push_back(o);
	auto rank = [](const PQconninfoOption *o) {
		for (size_t i = 0; i < std::size(first); ++i)
			if (std::strcmp(o->keyword, first[i]) == 0)
				return static_cast<int>(i);
		return static_cast<int>(std::size(first));
	};
	std::stable_sort(set.begin(), set.end(), [&](auto *a, auto *b) { return rank(a) < rank(b); });
	std::string out;
	for (const auto *o : set)
		out += fmt::format("{}{}={}", out.empty() ? "" : " ", o->keyword,
		                   mask && secret(o->keyword) ? std::string("***") : conninfo_value(o->val));
	return out.empty() ? "(libpq defaults: PGHOST, PGPORT, ...)" : out;
}

// A name part of a file name: letters, digits, '-', '_' and '.', anything else as '_'.
std::string file_part(const std::string &s) {
	std::string out;
	for (char ch : s) {
		unsigned char c = static_cast<unsigned char>(ch);
		out += (std::isalnum(c) || c == '-' || c == '_' || c == '.') && c < 0x80 ? ch : '_';
	}
	if (out.empty() || out.front() == '.')
		out.insert(0, "_");
	return out.substr(0, 60);
}

std::string value_of(const PQconninfoOption *opts, const char *keyword) {
	for (const PQconninfoOption *o = opts; o->keyword; ++o)
		if (std::strcmp(o->keyword, keyword) == 0 && o->val && *o->val)
			return o->val;
	return "";
}

}  // namespace

Target parse_target(const std::string &text, int line) {
	Target t;
	t.line = line;
	t.conninfo = text;
	// A word alone is a service name; libpq would take it for a database name.
	if (!is_uri(text) && text.find('=') == std::string::npos)
		t.conninfo = "service=" + conninfo_value(text);
	std::string why;
	Options opts = parse(t.conninfo, why);
	if (!opts)
		throw TargetsError("not a connection string libpq accepts (" + why + ")");
	t.shown = render(opts.get(), true);
	for (const char *k : {"dbname", "service", "host"}) {
		t.name = value_of(opts.get(), k);
		if (!t.name.empty())
			break;
	}
	if (t.name.empty() || t.name.find('=') != std::string::npos)
		t.name = "target";
	return t;
}

std::vector<Target> parse_targets(std::istream &in, const std::string &source) {
	std::vector<Target> out;
	std::map<std::string, int> seen;  // the full rendering (password included) -> its line
	std::string text;
	for (int line = 1; std::getline(in, text); ++line) {
		if (line == 1 && text.rfind("\xEF\xBB\xBF", 0) == 0)
			text.erase(0, 3);  // a byte order mark, as some editors save the file
		text = trimmed(text);
		if (text.empty() || text[0] == '#')
			continue;
		Target t;
		try {
			t = parse_target(text, line);
		} catch (const TargetsError &e) {
			throw TargetsError(fmt::format("{} line {}: {}", source, line, e.what()));
		}
		std::string why;
		Options opts = parse(t.conninfo, why);
		auto [it, fresh] = seen.emplace(render(opts.get(), false), line);
		if (!fresh)
			throw TargetsError(fmt::format("{} line {} is the target of line {} again ({}): list each database once",
			                               source, line, it->second, t.shown));
		out.push_back(std::move(t));
	}
	if (in.bad())
		throw TargetsError(fmt::format("cannot read {}", source));
	if (out.empty())
		throw TargetsError(fmt::format("{} lists no target (one connection string or service name a line; blank "
		                               "lines and # comments are skipped)",
		                               source));
	int width = std::max<int>(3, static_cast<int>(std::to_string(out.size()).size()));
	for (size_t i = 0; i < out.size(); ++i)
		out[i].stem = fmt::format("{:0{}}-{}", i + 1, width, file_part(out[i].name));
	return out;
}

std::string mask_conninfo(const std::string &conninfo) {
	std::string why;
	Options opts = parse(conninfo, why);
	return opts ? render(opts.get(), true) : "(not a connection string)";
}

}  // namespace dbkit::client::fleet
