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

void add(OwnRenames &r, std::string from_before, std::string to_before_tail, std::string from_after,
         std::string to_after_tail) {
	r.forward.push_back({std::move(from_before), std::move(to_before_tail)});
	r.back.push_back({std::move(from_after), std::move(to_after_tail)});
}

void read_statement(Node *stmt, const core::JsonValue &before, OwnRenames &r) {
	if (IsA(stmt, RenameStmt)) {
		auto *s = reinterpret_cast<RenameStmt *>(stmt);
		if (!s->relation || !s->newname)
			return;
		if (s->renameType == OBJECT_COLUMN && s->subname) {
			std::string q = schema_of(before, s->relation->schemaname, "table", s->relation->relname) + "." +
			                ident(s->relation->relname);
			add(r, q + "." + ident(s->subname), ident(s->newname), q + "." + ident(s->newname), ident(s->subname));
		} else if (s->renameType == OBJECT_TABLE || s->renameType == OBJECT_SEQUENCE) {
			std::string kind = s->renameType == OBJECT_SEQUENCE ? "sequence" : "table";
			std::string schema = schema_of(before, s->relation->schemaname, kind, s->relation->relname);
			if (kind == "table" && !has(before, "table:" + schema + "." + ident(s->relation->relname))) {
				std::string as_seq = schema_of(before, s->relation->schemaname, "sequence", s->relation->relname);
				if (has(before, "sequence:" + as_seq + "." + ident(s->relation->relname)))
					schema = as_seq;  // ALTER TABLE ... RENAME TO on a sequence
			}
			add(r, schema + "." + ident(s->relation->relname), ident(s->newname), schema + "." + ident(s->newname),
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
		add(r, q + "." + label(s->oldVal), label(s->newVal), q + "." + label(s->newVal), label(s->oldVal));
		return;
	}
	if (IsA(stmt, AlterObjectSchemaStmt)) {
		auto *s = reinterpret_cast<AlterObjectSchemaStmt *>(stmt);
		if (s->objectType != OBJECT_TABLE || !s->relation || !s->newschema)
			return;
		std::string old_schema = schema_of(before, s->relation->schemaname, "table", s->relation->relname);
		std::string t = ident(s->relation->relname), ns = ident(s->newschema);
		add(r, old_schema + "." + t, ns + "." + t, ns + "." + t, old_schema + "." + t);
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

OwnRenames own_renames(const core::Migration &m, const core::JsonValue &before) {
	OwnRenames r;
	each_statement(m, [&](Node *stmt) { read_statement(stmt, before, r); });
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
