#include "commutativity.hpp"

namespace dbkit::core {

namespace {

// "column:public.users.email" -> "column public.users.email"
std::string readable(const std::string &key) {
	std::string s = key;
	if (size_t colon = s.find(':'); colon != std::string::npos)
		s[colon] = ' ';
	return s;
}

// The table a key belongs to, for keys that name one ("table:X", "column:X.c",
// "constraint:X.n"); empty for others (indexes and enums are schema-level names).
std::string owning_table(const std::string &key) {
	auto after = [&](const char *prefix) { return key.substr(std::char_traits<char>::length(prefix)); };
	if (key.rfind("table:", 0) == 0)
		return after("table:");
	for (const char *prefix : {"column:", "constraint:"}) {
		if (key.rfind(prefix, 0) != 0)
			continue;
		std::vector<std::string> parts = split_qualified(after(prefix));  // quoted pieces, as in the key
		if (parts.size() < 3)
			return "";
		return parts[0] + "." + parts[1];
	}
	return "";
}

}  // namespace

std::set<std::string> changed_objects(const ObjectMap &before, const ObjectMap &after) {
	std::set<std::string> out;
	for (const auto &[key, attrs] : after) {
		auto it = before.find(key);
		if (it == before.end() || it->second != attrs)
			out.insert(key);
	}
	for (const auto &[key, _] : before)
		if (!after.count(key))
			out.insert(key);
	return out;
}

std::vector<std::string> branch_conflicts(const std::set<std::string> &a, const std::set<std::string> &b) {
	std::set<std::string> clash;
	std::set<std::string> whole_a, whole_b;  // tables a branch creates or drops
	for (const auto &k : a)
		if (k.rfind("table:", 0) == 0)
			whole_a.insert(owning_table(k));
	for (const auto &k : b)
		if (k.rfind("table:", 0) == 0)
			whole_b.insert(owning_table(k));
	for (const auto &k : a) {
		if (b.count(k))
			clash.insert(readable(k));
		else if (std::string t = owning_table(k); !t.empty() && whole_b.count(t))
			clash.insert("table " + t);
	}
	for (const auto &k : b)
		if (std::string t = owning_table(k); !t.empty() && whole_a.count(t))
			clash.insert("table " + t);
	return {clash.begin(), clash.end()};
}

}  // namespace dbkit::core
