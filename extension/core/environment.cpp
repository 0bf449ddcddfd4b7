#include "environment.hpp"

#include <set>

namespace dbkit::core {

std::vector<std::string> environment_schemas(const JsonValue &snapshot) {
	std::vector<std::string> out;
	const JsonValue *f = snapshot.find("dbkit:format");
	const JsonValue *e = f ? f->find("environment_schemas") : nullptr;
	if (e && e->kind == JsonValue::Kind::Array)
		for (const JsonValue &s : e->items)
			if (s.kind == JsonValue::Kind::String)
				out.push_back(s.string);
	return out;
}

bool key_in_schemas(std::string_view key, const std::vector<std::string> &schemas) {
	size_t colon = key.find(':');
	if (colon == std::string_view::npos)
		return false;
	std::string_view kind = key.substr(0, colon), rest = key.substr(colon + 1);
	for (const std::string &s : schemas) {
		if (kind == "schema" && rest == s)
			return true;
		if (rest.size() > s.size() && rest.compare(0, s.size(), s) == 0 && rest[s.size()] == '.')
			return true;
		if (kind == "default_privileges" && rest.find(" in " + s + " on ") != std::string_view::npos)
			return true;
	}
	return false;
}

JsonValue without_environment(const JsonValue &from, const JsonValue &to) {
	std::vector<std::string> schemas = environment_schemas(to);
	if (schemas.empty() || from.kind != JsonValue::Kind::Object)
		return from;
	std::set<std::string_view> code;
	for (const auto &m : to.members)
		code.insert(m.first);
	JsonValue out;
	out.kind = JsonValue::Kind::Object;
	for (const auto &[key, v] : from.members)
		if (!key_in_schemas(key, schemas) || code.count(key))
			out.members.emplace_back(key, v);
	return out;
}

JsonValue without_copies(const JsonValue &to, const JsonValue &from) {
	const JsonValue *f = from.find("dbkit:format");
	const JsonValue *keys = f ? f->find("environment_keys") : nullptr;
	if (!keys || keys->kind != JsonValue::Kind::Array || keys->items.empty() || to.kind != JsonValue::Kind::Object)
		return to;
	std::set<std::string_view> copied;
	for (const JsonValue &k : keys->items)
		if (k.kind == JsonValue::Kind::String)
			copied.insert(k.string);
	JsonValue out;
	out.kind = JsonValue::Kind::Object;
	for (const auto &[key, v] : to.members)
		if (!copied.count(key))
			out.members.emplace_back(key, v);
	return out;
}

}  // namespace dbkit::core
