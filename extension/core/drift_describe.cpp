#include "drift_describe.hpp"

#include <cctype>
#include <map>
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
bool same_member(const JsonValue &a, const JsonValue &b, const char *key) {
	const JsonValue *x = a.find(key), *y = b.find(key);
	return x && y ? same(*x, *y) : !x && !y;
}

const char *privilege_name(char c) {
	switch (c) {
	case 'r': return "SELECT";
	case 'a': return "INSERT";
	case 'w': return "UPDATE";
	case 'd': return "DELETE";
	case 'D': return "TRUNCATE";
	case 'x': return "REFERENCES";
	case 't': return "TRIGGER";
	case 'X': return "EXECUTE";
	case 'U': return "USAGE";
	case 'C': return "CREATE";
	case 'T': return "TEMPORARY";
	case 'c': return "CONNECT";
	case 's': return "SET";
	case 'A': return "ALTER SYSTEM";
	case 'm': return "MAINTAIN";
	default: return nullptr;
	}
}

// grantee -> privileges ("SELECT", "UPDATE WITH GRANT OPTION") of an acl array
// as dbkit._acl renders it: "grantee=privileges/grantor", PUBLIC spelled out.
std::map<std::string, std::set<std::string>> privileges(const JsonValue *acl) {
	std::map<std::string, std::set<std::string>> out;
	if (!acl || acl->kind != JsonValue::Kind::Array)
		return out;
	for (const auto &item : acl->items) {
		const std::string &e = item.string;
		std::string grantee;
		size_t i = 0;
		if (!e.empty() && e[0] == '"') {  // a quoted role name: "" is a quote
			for (i = 1; i < e.size(); ++i) {
				if (e[i] == '"' && i + 1 < e.size() && e[i + 1] == '"')
					grantee += e[++i];
				else if (e[i] == '"')
					break;
				else
					grantee += e[i];
			}
			++i;
		} else {
			while (i < e.size() && e[i] != '=')
				grantee += e[i++];
		}
		if (i >= e.size() || e[i] != '=')
			continue;
		auto &set = out[grantee];
		for (++i; i < e.size() && e[i] != '/'; ++i) {
			const char *name = privilege_name(e[i]);
			std::string p = name ? name : std::string(1, e[i]);
			if (i + 1 < e.size() && e[i + 1] == '*') {
				p += " WITH GRANT OPTION";
				++i;
			}
			set.insert(p);
		}
	}
	return out;
}

// "granted to PUBLIC: SELECT, INSERT; revoked from bob: UPDATE"
std::string describe_acl_change(const JsonValue *was, const JsonValue *now) {
	auto a = privileges(was), b = privileges(now);
	std::set<std::string> grantees;
	for (const auto &[g, _] : a)
		grantees.insert(g);
	for (const auto &[g, _] : b)
		grantees.insert(g);
	std::string out;
	auto list = [](const std::set<std::string> &x, const std::set<std::string> &minus) {
		std::string s;
		for (const auto &p : x)
			if (!minus.count(p))
				s += (s.empty() ? "" : ", ") + p;
		return s;
	};
	static const std::set<std::string> none;
	for (const char *what : {"granted to ", "revoked from "})
		for (const auto &g : grantees) {
			const auto &old_set = a.count(g) ? a.at(g) : none;
			const auto &new_set = b.count(g) ? b.at(g) : none;
			std::string l = what[0] == 'g' ? list(new_set, old_set) : list(old_set, new_set);
			if (!l.empty())
				out += (out.empty() ? "" : "; ") + std::string(what) + (g.empty() ? "PUBLIC" : g) + ": " + l;
		}
	return out.empty() ? "privileges differ" : "privileges " + out;
}

// Kinds whose added or removed entry says what the object does: a rule that
// swallows every insert is worth reading in the drift row itself.
std::string summary(const std::string &kind, const std::string &json) {
	static const std::set<std::string> kinds = {"rule",    "aggregate",     "operator",          "cast",
	                                            "publication", "event_trigger", "default_privileges"};
	if (!kinds.count(kind))
		return "";
	JsonValue v;
	JsonError err;
	if (!parse_json(json, v, err) || v.kind != JsonValue::Kind::Object)
		return "";
	std::string s;
	if (const JsonValue *def = v.find("definition"); def && def->kind == JsonValue::Kind::String)
		s = def->string;
	else if (kind == "default_privileges")
		s = describe_acl_change(nullptr, v.find("acl")).substr(11);  // "granted to ..."
	else
		for (const auto &[k, x] : v.members)
			if (k != "owner" && k != "acl")
				s += (s.empty() ? "" : ", ") + k + ": " + render(x);
	std::string flat;  // pretty-printed definitions: one line in the row
	for (char ch : s)
		if (!std::isspace(static_cast<unsigned char>(ch)))
			flat += ch;
		else if (!flat.empty() && flat.back() != ' ')
			flat += ' ';
	s = flat;
	if (s.size() > 200)
		s = s.substr(0, 197) + "...";
	return s.empty() ? "" : ": " + s;
}

}  // namespace

DriftItem describe_drift(std::string_view key, const std::optional<std::string> &expected,
                         const std::optional<std::string> &actual) {
	DriftItem d;
	size_t colon = key.find(':');
	d.kind = std::string(colon == std::string_view::npos ? "object" : key.substr(0, colon));
	d.name = std::string(colon == std::string_view::npos ? key : key.substr(colon + 1));
	if (!expected) {
		d.change = "added";
		d.detail = d.kind + " " + d.name + " exists but no migration created it" + summary(d.kind, *actual);
		return d;
	}
	if (!actual) {
		d.change = "removed";
		d.detail = d.kind + " " + d.name + " was created by the migrations but is gone" + summary(d.kind, *expected);
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
		if (k == "acl") {
			d.detail += (d.detail.empty() ? "" : "; ") + describe_acl_change(x, y);
			continue;
		}
		if (k == "replica_identity") {  // absent: the default (the primary key)
			d.detail += (d.detail.empty() ? "" : "; ") + std::string("replica identity: ") +
			            (x ? render(*x) : "default") + " -> " + (y ? render(*y) : "default");
			continue;
		}
		if (k == "depends_on" && !same_member(a, b, "definition"))
			continue;  // a view's pg_depend follows its definition, which says it
		if (k == "identity_options" && (!x || !y))
			continue;  // an identity added or dropped: the "identity" member says so
		if (k == "identity_options" && x->kind == JsonValue::Kind::Object &&
		    y->kind == JsonValue::Kind::Object) {  // only the options that changed
			std::string opts;
			for (const auto &m : y->members) {
				const JsonValue *was = x->find(m.first);
				if (!was || !same(*was, m.second))
					opts += (opts.empty() ? "" : ", ") + m.first + " " + (was ? render(*was) : "(none)") + " -> " +
					        render(m.second);
			}
			d.detail += (d.detail.empty() ? "" : "; ") + std::string("identity options: ") + opts;
			continue;
		}
		// quoted: a comment is prose, spaces and all
		auto comment_change = [&](const std::string &what, const JsonValue *was_v, const JsonValue *now_v) {
			auto q = [](const JsonValue *v) { return v ? "'" + render(*v) + "'" : std::string("(none)"); };
			std::string was = q(was_v), now = q(now_v);
			d.detail += (d.detail.empty() ? "" : "; ") +
			            (was.size() > 120 || now.size() > 120 ? what + " differs" : what + ": " + was + " -> " + now);
		};
		if (k == "comment") {
			comment_change("comment", x, y);
			continue;
		}
		if (k == "column_comments") {  // a view's: one change per column
			std::set<std::string> columns;
			for (const JsonValue *side : {x, y})
				if (side && side->kind == JsonValue::Kind::Object)
					for (const auto &m : side->members)
						columns.insert(m.first);
			for (const auto &c : columns) {
				const JsonValue *was = x ? x->find(c) : nullptr, *now = y ? y->find(c) : nullptr;
				if (!(was && now && same(*was, *now)))
					comment_change("comment on column " + c, was, now);
			}
			continue;
		}
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

bool grant_concerns(std::string_view kind, std::string_view drift_name, std::string_view audit_identity, bool on_schema) {
	if ((kind == "schema") != on_schema || audit_identity.empty())
		return false;
	if (drift_name == audit_identity)
		return true;
	return kind == "column" && audit_concerns(drift_name, audit_identity) &&
	       drift_name.find('.', audit_identity.size() + 1) == std::string_view::npos;
}

}  // namespace dbkit::core
