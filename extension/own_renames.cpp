// The renames a migration makes itself, from its parse trees (own_renames.hpp).
#include "own_renames.hpp"

#include <string>

#include "core/folder.hpp"
#include "execute.hpp"
#include "parse.hpp"

namespace dbkit {

namespace {

std::string ident(const char *name) {
	return PgCall([name]() noexcept { return quote_identifier(name); });
}

// The schema of an unqualified name: the one schema whose `kind` object has it, public otherwise.
std::string schema_of(const core::JsonValue &before, const char *schema, const std::string &kind, const char *name) {
	if (schema)
		return ident(schema);
	std::string tail = "." + ident(name), found;
	int n = 0;
	for (const auto &m : before.members) {
		const std::string &k = m.first;
		if (k.compare(0, kind.size() + 1, kind + ":") != 0 || k.size() <= kind.size() + 1 + tail.size() ||
		    k.compare(k.size() - tail.size(), tail.size(), tail) != 0)
			continue;
		std::string s = k.substr(kind.size() + 1, k.size() - tail.size() - kind.size() - 1);
		if (s.find('.') == std::string::npos || s.front() == '"') {
			found = s;
			++n;
		}
	}
	return n == 1 ? found : "public";
}

bool has(const core::JsonValue &before, const std::string &key) { return before.find(key) != nullptr; }

std::string label(const char *l) {
	std::string out = "'";
	for (const char *p = l; *p; ++p)
		out += *p == '\'' ? std::string("''") : std::string(1, *p);
	return out + "'";
}

// A rename read from the SQL, kept only when the two schemas show it (a column added and
// renamed in the same migration, say, is no rename of anything that was there before).
struct Candidate {
	std::string kind;  // "column", "table", "sequence", "enum"
	core::Rename forward, back;
	std::string owner;             // column: the table as written; enum: the type
	std::string old_name, new_name;  // column names, or enum labels (unquoted)
};
using Candidates = std::vector<Candidate>;

void add(Candidates &r, std::string kind, std::string from_before, std::string to_before_tail, std::string from_after,
         std::string to_after_tail, std::string owner = {}, std::string old_name = {}, std::string new_name = {}) {
	r.push_back({std::move(kind),
	             {std::move(from_before), std::move(to_before_tail)},
	             {std::move(from_after), std::move(to_after_tail)},
	             std::move(owner),
	             std::move(old_name),
	             std::move(new_name)});
}

bool has_label(const core::JsonValue &snap, const std::string &enum_key, const std::string &l) {
	const core::JsonValue *e = snap.find(enum_key);
	const core::JsonValue *labels = e ? e->find("labels") : nullptr;
	if (!labels)
		return false;
	for (const auto &x : labels->items)
		if (x.string == l)
			return true;
	return false;
}

bool shown(const Candidate &c, const Candidates &all, const core::JsonValue &before, const core::JsonValue &after) {
	if (c.kind == "enum") {
		std::string k = "enum:" + c.owner;
		return has_label(before, k, c.old_name) && !has_label(before, k, c.new_name) && has_label(after, k, c.new_name) &&
		       !has_label(after, k, c.old_name);
	}
	if (c.kind == "column") {
		// the table as written may be its name before or after a rename in the same migration
		std::vector<std::string> as_before{c.owner}, as_after{c.owner};
		for (const auto &t : all)
			if (t.kind == "table") {
				if (t.back.from == c.owner)
					as_before.push_back(t.forward.from);
				if (t.forward.from == c.owner)
					as_after.push_back(t.back.from);
			}
		auto in = [](const core::JsonValue &snap, const std::vector<std::string> &tables, const std::string &col) {
			for (const auto &t : tables)
				if (has(snap, "column:" + t + "." + col))
					return true;
			return false;
		};
		return in(before, as_before, c.old_name) && !in(before, as_before, c.new_name) && in(after, as_after, c.new_name) &&
		       !in(after, as_after, c.old_name);
	}
	return has(before, c.kind + ":" + c.forward.from) && !has(before, c.kind + ":" + c.back.from) &&
	       has(after, c.kind + ":" + c.back.from) && !has(after, c.kind + ":" + c.forward.from);
}

void read_statement(Node *stmt, const core::JsonValue &before, Candidates &r) {
	if (IsA(stmt, RenameStmt)) {
		auto *s = reinterpret_cast<RenameStmt *>(stmt);
		if (!s->relation || !s->newname)
			return;
		if (s->renameType == OBJECT_COLUMN && s->subname) {
			std::string q = schema_of(before, s->relation->schemaname, "table", s->relation->relname) + "." +
			                ident(s->relation->relname);
			add(r, "column", q + "." + ident(s->subname), ident(s->newname), q + "." + ident(s->newname),
			    ident(s->subname), q, ident(s->subname), ident(s->newname));
		} else if (s->renameType == OBJECT_TABLE || s->renameType == OBJECT_SEQUENCE) {
			std::string kind = s->renameType == OBJECT_SEQUENCE ? "sequence" : "table";
			std::string schema = schema_of(before, s->relation->schemaname, kind, s->relation->relname);
			if (kind == "table" && !has(before, "table:" + schema + "." + ident(s->relation->relname))) {
				std::string as_seq = schema_of(before, s->relation->schemaname, "sequence", s->relation->relname);
				if (has(before, "sequence:" + as_seq + "." + ident(s->relation->relname)))
					schema = as_seq;  // ALTER TABLE ... RENAME TO on a sequence
			}
			if (has(before, "sequence:" + schema + "." + ident(s->relation->relname)))
				kind = "sequence";
			add(r, kind, schema + "." + ident(s->relation->relname), ident(s->newname), schema + "." + ident(s->newname),
			    ident(s->relation->relname));
		}
		return;
	}
	if (IsA(stmt, AlterEnumStmt)) {
		auto *s = reinterpret_cast<AlterEnumStmt *>(stmt);
		if (!s->oldVal || !s->newVal || list_length(s->typeName) < 1 || list_length(s->typeName) > 2)
			return;
		const char *name = strVal(llast(s->typeName));
		const char *schema = list_length(s->typeName) == 2 ? strVal(linitial(s->typeName)) : nullptr;
		std::string q = schema_of(before, schema, "enum", name) + "." + ident(name);
		add(r, "enum", q + "." + label(s->oldVal), label(s->newVal), q + "." + label(s->newVal), label(s->oldVal), q,
		    s->oldVal, s->newVal);
		return;
	}
	if (IsA(stmt, AlterObjectSchemaStmt)) {
		auto *s = reinterpret_cast<AlterObjectSchemaStmt *>(stmt);
		if (s->objectType != OBJECT_TABLE || !s->relation || !s->newschema)
			return;
		std::string old_schema = schema_of(before, s->relation->schemaname, "table", s->relation->relname);
		std::string t = ident(s->relation->relname), ns = ident(s->newschema);
		add(r, "table", old_schema + "." + t, ns + "." + t, ns + "." + t, old_schema + "." + t);
	}
}

template <typename F>
void each_statement(const core::Migration &m, F &&f) {
	for (const auto &s : plan_statements(m)) {
		std::string text(s.text);
		ErrorData *err = nullptr;
		List *trees = raw_parse_noexcept(text.c_str(), true, &err);
		ListCell *lc;
		foreach (lc, trees)
			f(reinterpret_cast<RawStmt *>(lfirst(lc))->stmt);
	}
}

}  // namespace

OwnRenames own_renames(const core::Migration &m, const core::JsonValue &before, const core::JsonValue &after) {
	Candidates all;
	each_statement(m, [&](Node *stmt) { read_statement(stmt, before, all); });
	OwnRenames r;
	for (const auto &c : all)
		if (shown(c, all, before, after)) {
			r.forward.push_back(c.forward);
			r.back.push_back(c.back);
		}
	return r;
}

std::vector<CreatedExtension> created_extensions(const core::Migration &m) {
	std::vector<CreatedExtension> out;
	each_statement(m, [&](Node *stmt) {
		if (IsA(stmt, CreateExtensionStmt)) {
			auto *c = reinterpret_cast<CreateExtensionStmt *>(stmt);
			out.push_back({c->extname, c->if_not_exists});
		}
	});
	return out;
}

}  // namespace dbkit
