#include "drift.hpp"

#include <set>

#include "json.hpp"

namespace dbkit::core {

namespace {

std::string render(const JsonValue &v) {
	switch (v.kind) {
	case JsonValue::Kind::Null: return "null";
	case JsonValue::Kind::Bool: return v.boolean ? "true" : "false";
	case JsonValue::Kind::Number: return v.is_integer ? std::to_string(v.integer) : std::to_string(v.number);
	case JsonValue::Kind::String: return v.string;
	case JsonValue::Kind::Array: {
		std::string s = "[";
		for (size_t i = 0; i < v.items.size(); ++i)
			s += (i ? ", " : "") + render(v.items[i]);
		return s + "]";
	}
	case JsonValue::Kind::Object: {
		std::string s = "{";
		for (size_t i = 0; i < v.members.size(); ++i)
			s += (i ? ", " : "") + v.members[i].first + ": " + render(v.members[i].second);
		return s + "}";
	}
	}
	return "";
}

bool same(const JsonValue &a, const JsonValue &b) { return render(a) == render(b) && a.kind == b.kind; }

}  // namespace

DriftItem describe_drift(std::string_view key, const std::optional<std::string> &expected,
                         const std::optional<std::string> &actual) {
	DriftItem d;
	size_t colon = key.find(':');
	d.kind = std::string(colon == std::string_view::npos ? "object" : key.substr(0, colon));
	d.name = std::string(colon == std::string_view::npos ? key : key.substr(colon + 1));
	if (!expected) {
		d.change = "added";
		d.detail = d.kind + " " + d.name + " exists but no migration created it";
		return d;
	}
	if (!actual) {
		d.change = "removed";
		d.detail = d.kind + " " + d.name + " was created by the migrations but is gone";
		return d;
	}
	d.change = "changed";
	JsonValue a, b;
	JsonError err;
	if (!parse_json(*expected, a, err) || !parse_json(*actual, b, err) || a.kind != JsonValue::Kind::Object ||
	    b.kind != JsonValue::Kind::Object) {
		d.detail = "differs";
		return d;
	}
	std::set<std::string> keys;
	for (const auto &m : a.members)
		keys.insert(m.first);
	for (const auto &m : b.members)
		keys.insert(m.first);
	for (const auto &k : keys) {
		const JsonValue *x = a.find(k), *y = b.find(k);
		if (x && y && same(*x, *y))
			continue;
		std::string was = x ? render(*x) : "(none)", now = y ? render(*y) : "(none)";
		if (was.size() > 120 || now.size() > 120)  // function bodies, view definitions
			d.detail += (d.detail.empty() ? "" : "; ") + k + " differs";
		else
			d.detail += (d.detail.empty() ? "" : "; ") + k + ": " + was + " -> " + now;
	}
	return d;
}

bool audit_concerns(std::string_view name, std::string_view identity) {
	std::string id(identity);
	// "<object> on <schema.table>" (constraints, triggers, policies, rules)
	if (size_t on = id.find(" on "); on != std::string::npos)
		id = id.substr(on + 4) + "." + id.substr(0, on);
	if (id.empty())
		return false;
	if (name == id)
		return true;
	// a table's identity explains its columns, constraints, triggers and policies
	return name.size() > id.size() && name.substr(0, id.size()) == id && name[id.size()] == '.';
}

}  // namespace dbkit::core
