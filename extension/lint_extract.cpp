#include <cstring>
#include <map>
#include <string_view>

#include <fmt/format.h>

#include "core/code_drift.hpp"
#include "core/markers.hpp"
#include "core/text.hpp"
#include "lint_extract.hpp"

#include "core/enum_fold.hpp"
#include "locks.hpp"
#include "parse.hpp"
#include "spi.hpp"

namespace dbkit {

namespace {

std::string range_name(const RangeVar *rv) {
	if (!rv)
		return "";
	return rv->schemaname ? std::string(rv->schemaname) + "." + rv->relname : std::string(rv->relname);
}

std::string names_to_string(List *names) {
	std::string s;
	ListCell *lc;
	foreach (lc, names)
		s += (s.empty() ? "" : ".") + std::string(strVal(lfirst(lc)));
	return s;
}

std::vector<std::string> string_list(List *l) {
	std::vector<std::string> out;
	ListCell *lc;
	foreach (lc, l)
		out.push_back(strVal(lfirst(lc)));
	return out;
}

// TypeName -> "character varying(20)" (format_type's spelling, via core's normaliser)
std::string type_string(const TypeName *t) {
	if (!t || !t->names)
		return "";
	std::string name = strVal(llast(t->names));
	static const std::map<std::string, std::string> internal = {
	    {"int4", "integer"}, {"int8", "bigint"}, {"int2", "smallint"}, {"bool", "boolean"},
	    {"float8", "double precision"}, {"float4", "real"}, {"bpchar", "character"},
	    {"varchar", "character varying"}, {"timestamptz", "timestamp with time zone"},
	    {"timetz", "time with time zone"}};
	if (auto it = internal.find(name); it != internal.end())
		name = it->second;
	std::string mods;
	ListCell *lc;
	foreach (lc, t->typmods) {
		Node *n = static_cast<Node *>(lfirst(lc));
		if (IsA(n, A_Const) && IsA(&reinterpret_cast<A_Const *>(n)->val, Integer))
			mods += (mods.empty() ? "" : ",") + std::to_string(intVal(&reinterpret_cast<A_Const *>(n)->val));
	}
	if (name == "timestamp" || name == "time") {
		name = name + (mods.empty() ? "" : "(" + mods + ")") + " without time zone";
		mods.clear();
	} else if ((name == "timestamp with time zone" || name == "time with time zone") && !mods.empty()) {
		name = name.substr(0, name.find(' ')) + "(" + mods + ")" + name.substr(name.find(' '));
		mods.clear();
	}
	std::string out = core::normalize_type(name + (mods.empty() ? "" : "(" + mods + ")"), "");
	if (t->arrayBounds)
		out += "[]";
	return out;
}

// C-style on purpose: it runs inside PgCall (the walker can raise, e.g. on a
// too-deep expression), so it must not own C++ objects.
bool volatile_walker(Node *node, void *found) noexcept {
	if (!node)
		return false;
	if (IsA(node, FuncCall)) {
		const char *name = strVal(llast(reinterpret_cast<FuncCall *>(node)->funcname));
		for (const char *const *v = core::volatile_function_names(); *v; ++v)
			if (pg_strcasecmp(name, *v) == 0) {
				*static_cast<bool *>(found) = true;
				return true;
			}
	}
	// the walker is declared with an unprototyped callback in PostgreSQL 15
	return raw_expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(volatile_walker)),
	                                  found);
}

bool has_volatile_call(Node *expr) {
	bool found = false;
	PgCall([&]() noexcept { (void)volatile_walker(expr, &found); });
	return found;
}

void column_constraints(const ColumnDef *col, core::AlterCmd *cmd, core::LintStatement *create) {
	ListCell *lc;
	foreach (lc, col->constraints) {
		Constraint *c = lfirst_node(Constraint, lc);
		switch (c->contype) {
		case CONSTR_DEFAULT:
			if (cmd)
				cmd->has_default = true;
			if (cmd && c->raw_expr && has_volatile_call(c->raw_expr))
				cmd->volatile_default = true;
			break;
		case CONSTR_IDENTITY:
			if (cmd)
				cmd->identity = true;
			break;
		case CONSTR_GENERATED:  // PostgreSQL 15 has only STORED generated columns
			if (cmd)
				cmd->generated_stored = true;
			break;
		case CONSTR_NOTNULL:
			if (cmd)
				cmd->not_null = true;
			break;
		case CONSTR_PRIMARY:
			if (cmd)
				cmd->inline_primary_key = true;
			if (create) {
				create->has_primary_key = true;
				create->unique_keys.push_back({col->colname});
			}
			break;
		case CONSTR_UNIQUE:
			if (cmd)
				cmd->inline_unique = true;
			if (create)
				create->unique_keys.push_back({col->colname});
			break;
		case CONSTR_FOREIGN:
			if (create)
				create->foreign_keys.push_back({col->colname});
			break;
		default:
			break;
		}
	}
	if (cmd && col->raw_default && has_volatile_call(col->raw_default))
		cmd->volatile_default = true;
}

void table_constraint(const Constraint *c, core::LintStatement &s) {
	if (c->contype == CONSTR_PRIMARY) {
		s.has_primary_key = true;
		s.unique_keys.push_back(string_list(c->keys));
	} else if (c->contype == CONSTR_UNIQUE) {
		s.unique_keys.push_back(string_list(c->keys));
	} else if (c->contype == CONSTR_FOREIGN) {
		s.foreign_keys.push_back(string_list(c->fk_attrs));
	}
}

void alter_cmd(const AlterTableCmd *cmd, core::LintStatement &s) {
	core::AlterCmd a;
	switch (cmd->subtype) {
	case AT_AddColumn: {
		const ColumnDef *col = reinterpret_cast<const ColumnDef *>(cmd->def);
		a.type = core::AlterCmd::Type::AddColumn;
		a.column = col->colname;
		a.new_type = type_string(col->typeName);
		if (col->typeName && col->typeName->names && !col->typeName->arrayBounds) {
			const char *tn = strVal(llast(col->typeName->names));
			for (const char *serial : {"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})
				a.serial |= strcmp(tn, serial) == 0;
		}
		column_constraints(col, &a, nullptr);
		break;
	}
	case AT_DropColumn:
		a.type = core::AlterCmd::Type::DropColumn;
		a.column = cmd->name ? cmd->name : "";
		break;
	case AT_AlterColumnType:
		a.type = core::AlterCmd::Type::AlterType;
		a.column = cmd->name ? cmd->name : "";
		a.new_type = type_string(reinterpret_cast<const ColumnDef *>(cmd->def)->typeName);
		break;
	case AT_SetNotNull:
		a.type = core::AlterCmd::Type::SetNotNull;
		a.column = cmd->name ? cmd->name : "";
		break;
	case AT_AddConstraint: {
		const Constraint *c = reinterpret_cast<const Constraint *>(cmd->def);
		a.not_valid = c->skip_validation;
		if (c->contype == CONSTR_FOREIGN) {
			a.type = core::AlterCmd::Type::AddForeignKey;
			a.columns = string_list(c->fk_attrs);
		} else if (c->contype == CONSTR_CHECK) {
			a.type = core::AlterCmd::Type::AddCheck;
		} else if (c->contype == CONSTR_PRIMARY) {
			a.type = core::AlterCmd::Type::AddPrimaryKey;
			a.columns = string_list(c->keys);
			a.using_index = c->indexname != nullptr;
		} else if (c->contype == CONSTR_UNIQUE) {
			a.type = core::AlterCmd::Type::AddUnique;
			a.columns = string_list(c->keys);
			a.using_index = c->indexname != nullptr;
		} else if (c->contype == CONSTR_EXCLUSION) {
			a.type = core::AlterCmd::Type::AddExclude;
		}
		break;
	}
	default:
		break;
	}
	s.cmds.push_back(std::move(a));
}

void describe(Node *n, core::LintStatement &s) {
	switch (nodeTag(n)) {
	case T_CreateStmt: {
		CreateStmt *c = reinterpret_cast<CreateStmt *>(n);
		s.kind = core::LintStatement::Kind::CreateTable;
		s.tables.push_back(range_name(c->relation));
		s.is_partition = c->partbound != nullptr;
		ListCell *lc;
		foreach (lc, c->tableElts) {
			Node *e = static_cast<Node *>(lfirst(lc));
			if (IsA(e, ColumnDef))
				column_constraints(reinterpret_cast<ColumnDef *>(e), nullptr, &s);
			else if (IsA(e, Constraint))
				table_constraint(reinterpret_cast<Constraint *>(e), s);
		}
		foreach (lc, c->constraints)
			table_constraint(lfirst_node(Constraint, lc), s);
		break;
	}
	case T_AlterTableStmt: {
		AlterTableStmt *a = reinterpret_cast<AlterTableStmt *>(n);
		if (compat::alter_table_objtype(a) != OBJECT_TABLE)
			break;
		s.kind = core::LintStatement::Kind::AlterTable;
		s.tables.push_back(range_name(a->relation));
		ListCell *lc;
		foreach (lc, a->cmds)
			alter_cmd(lfirst_node(AlterTableCmd, lc), s);
		break;
	}
	case T_DropStmt: {
		DropStmt *d = reinterpret_cast<DropStmt *>(n);
		ListCell *lc;
		foreach (lc, d->objects) {
			Node *o = static_cast<Node *>(lfirst(lc));
			if (IsA(o, List))
				s.tables.push_back(names_to_string(reinterpret_cast<List *>(o)));
			else if (IsA(o, String))
				s.tables.push_back(strVal(o));
			else if (IsA(o, TypeName))
				s.tables.push_back(names_to_string(reinterpret_cast<TypeName *>(o)->names));
		}
		if (d->removeType == OBJECT_TABLE)
			s.kind = core::LintStatement::Kind::DropTable;
		else if (d->removeType == OBJECT_SCHEMA)
			s.kind = core::LintStatement::Kind::DropSchema;
		else if (d->removeType == OBJECT_TYPE || d->removeType == OBJECT_DOMAIN)
			s.kind = core::LintStatement::Kind::DropType;
		else
			s.kind = core::LintStatement::Kind::DropOther;
		break;
	}
	case T_TruncateStmt: {
		s.kind = core::LintStatement::Kind::Truncate;
		ListCell *lc;
		foreach (lc, reinterpret_cast<TruncateStmt *>(n)->relations)
			s.tables.push_back(range_name(lfirst_node(RangeVar, lc)));
		break;
	}
	case T_DeleteStmt: {
		DeleteStmt *d = reinterpret_cast<DeleteStmt *>(n);
		if (!d->whereClause) {
			s.kind = core::LintStatement::Kind::DeleteAll;
			s.tables.push_back(range_name(d->relation));
		}
		break;
	}
	case T_UpdateStmt: {
		UpdateStmt *u = reinterpret_cast<UpdateStmt *>(n);
		if (!u->whereClause) {
			s.kind = core::LintStatement::Kind::UpdateAll;
			s.tables.push_back(range_name(u->relation));
		}
		break;
	}
	case T_IndexStmt: {
		IndexStmt *ix = reinterpret_cast<IndexStmt *>(n);
		s.kind = core::LintStatement::Kind::CreateIndex;
		s.tables.push_back(range_name(ix->relation));
		s.concurrently = ix->concurrent;
		if (ix->concurrent)
			s.command += " CONCURRENTLY";
		ListCell *lc;
		foreach (lc, ix->indexParams) {
			IndexElem *e = lfirst_node(IndexElem, lc);
			s.index_columns.push_back(e->name ? e->name : "(expression)");
		}
		break;
	}
	case T_CreateEnumStmt:
		s.kind = core::LintStatement::Kind::CreateEnum;
		break;
	case T_DoStmt:  // drizzle-kit before 0.30: DO $$ BEGIN CREATE TYPE ... AS ENUM(...); EXCEPTION ... END $$
		if (auto body = core::do_block_body(std::string(s.text)); body && core::enum_in_do_block(*body))
			s.kind = core::LintStatement::Kind::CreateEnum;
		break;
	case T_AlterEnumStmt: {
		AlterEnumStmt *e = reinterpret_cast<AlterEnumStmt *>(n);
		if (!e->oldVal && e->newVal) {
			s.kind = core::LintStatement::Kind::AddEnumValue;
			s.enum_value = e->newVal;
		}
		break;
	}
	default:
		break;
	}
}

}  // namespace

LintInput lint_input(const core::Migration &m) {
	LintInput in;
	int number = 0;
	for (const core::Chunk &chunk : core::split_breakpoints(m.sql)) {
		if (core::blank_sql(chunk.text))
			continue;
		std::string sql(chunk.text);
		ErrorData *err = nullptr;
		List *stmts = raw_parse_noexcept(sql.c_str(), /*in_subxact=*/true, &err);
		if (err) {
			int pos = err->cursorpos;
			size_t at = chunk.offset + (pos > 0 ? core::byte_offset_of_char(chunk.text, pos) : 0);
			in.parse_errors.push_back({"error", "syntax", 0, core::line_at(m.sql, at),
			                           fmt::format("{}, line {}: {}", m.file, core::line_at(m.sql, at), err->message),
			                           "Fix the statement; the rest of this chunk was not linted."});
			continue;
		}
		ListCell *lc;
		foreach (lc, stmts) {
			RawStmt *rs = lfirst_node(RawStmt, lc);
			size_t off = static_cast<size_t>(rs->stmt_location);
			size_t len = rs->stmt_len == 0 ? sql.size() - off : static_cast<size_t>(rs->stmt_len);
			std::string_view text = chunk.text.substr(off, len);
			size_t lead = core::skip_space_and_comments(text, 0);
			core::LintStatement s;
			s.number = ++number;
			s.line = core::line_at(m.sql, chunk.offset + off + lead);
			s.command = CreateCommandName(rs->stmt);
			s.text = std::string(text.substr(lead));
			describe(rs->stmt, s);
			if (s.kind != core::LintStatement::Kind::CreateIndex && IsA(rs->stmt, DropStmt) &&
			    reinterpret_cast<DropStmt *>(rs->stmt)->concurrent)
				s.command += " CONCURRENTLY";
			in.statements.push_back(std::move(s));
		}
	}
	// statements that cannot run in a transaction block, and the file's own
	// transaction control: same rules as apply
	std::vector<core::TxStatement> tx;
	for (auto &s : in.statements) {
		tx.emplace_back();
		try {
			auto parsed = parse_statements(s.text, /*in_subxact=*/true);
			if (!parsed.empty()) {
				tx.back() = {parsed[0].tx, parsed[0].begin_options, parsed[0].needs_no_transaction};
				if (parsed[0].tx == core::TxKind::Commit)
					s.kind = core::LintStatement::Kind::Commit;
			}
			if (!parsed.empty() && parsed[0].needs_no_transaction)
				s.kind = core::LintStatement::Kind::NoTransaction;
			if (!parsed.empty() && !parsed[0].touches_dbkit.empty())  // same refusal as check and apply
				in.parse_errors.push_back({"error", "migration.dbkit_objects", s.number, s.line,
				                           fmt::format("{}, statement {} (line {}): {} {}, which dbkit needs to "
				                                       "record this migration",
				                                       m.file, s.number, s.line, s.command, parsed[0].touches_dbkit),
				                           "Remove the statement from the migration; dbkit refuses to apply it."});
		} catch (const PgError &) {
		}
	}
	in.non_transactional = core::read_markers(m.sql).no_transaction;
	for (const auto &t : tx)
		in.non_transactional |= t.needs_top_level;
	if (!in.statements.empty()) {
		core::TxShape shape = core::transaction_shape(tx);
		in.non_transactional |= shape.mode == core::TxShape::Mode::Blocks;
		size_t at = shape.mode == core::TxShape::Mode::Refused ? shape.at : 0;
		const core::LintStatement &s = in.statements[at];
		if (shape.mode == core::TxShape::Mode::Refused)
			in.parse_errors.push_back({"error", "tx.control", s.number, s.line,
			                           fmt::format("{}, statement {} (line {}): {} {}", m.file, s.number, s.line,
			                                       s.command, shape.why),
			                           "Remove it: dbkit refuses to apply the migration (DK005)."});
		else if (shape.mode != core::TxShape::Mode::Plain)
			in.parse_errors.push_back({"warning",
			                           shape.mode == core::TxShape::Mode::Wrapped ? "tx.wrapped" : "tx.own-transactions",
			                           s.number, s.line, fmt::format("{}: {}", m.file, shape.summary),
			                           shape.mode == core::TxShape::Mode::Wrapped
			                               ? "Nothing to do; the wrapper may be removed."
			                               : "Prefer one migration per transaction, so that each is applied and "
			                                 "recorded whole."});
	}
	return in;
}

std::vector<PendingLint> lint_pending(const core::Plan &plan, const core::Folder &folder, bool with_parse_errors) {
	std::vector<PendingLint> out;
	std::vector<LintInput> inputs;
	for (const auto &it : plan.items)
		if (it.pos && (it.state == core::State::Pending || it.state == core::State::OutOfOrder)) {
			out.push_back({&folder.migrations[*it.pos], {}});
			inputs.push_back(lint_input(*out.back().migration));
		}
	std::vector<core::RunMigration> run;
	for (size_t i = 0; i < out.size(); ++i) {
		const core::Migration &m = *out[i].migration;
		if (with_parse_errors)
			out[i].findings = inputs[i].parse_errors;
		for (auto &f : core::lint_migration(inputs[i].statements, std::string(m.sql), catalog_lookup()))
			out[i].findings.push_back(std::move(f));
		run.push_back({m.file, &inputs[i].statements, m.sql, inputs[i].non_transactional});
	}
	for (auto &rf : core::lint_run(run))
		out[rf.migration].findings.push_back(std::move(rf.finding));
	return out;
}

core::TableLookup catalog_lookup() {
	return [](const std::string &table) -> std::optional<core::TableInfo> {
		// as written in the migration: schema.table or table (resolved by search_path)
		std::string qualified;
		size_t dot = table.find('.');
		qualified = dot == std::string::npos ? spi::sql_ident(table)
		                                     : spi::sql_ident(table.substr(0, dot)) + "." +
		                                           spi::sql_ident(table.substr(dot + 1));
		Oid relid = resolve_relation(qualified);  // under the migration's search_path
		if (relid == InvalidOid)
			return std::nullopt;
		qualified = std::to_string(relid);
		spi::execute(
		    "SELECT c.reltuples::float8, pg_catalog.pg_relation_size(c.oid), c.oid::pg_catalog.regclass::text, "
		    // counting runs no one else's code: a plain table without row security (a view's
		    // functions and a policy's run as the caller; a foreign table asks its server)
		    "pg_catalog.has_table_privilege(c.oid, 'SELECT') AND c.relkind IN ('r', 'p', 'm') "
		    "AND NOT c.relrowsecurity FROM pg_catalog.pg_class c "
		    "WHERE c.oid = $1::pg_catalog.oid",
		    {spi::text(qualified)});
		if (spi::rows() == 0)
			return std::nullopt;
		core::TableInfo ti;
		ti.rows = std::stod(spi::get_text(0, 1).value_or("0"));
		ti.bytes = spi::get_int64(0, 2).value_or(0);
		// Never analyzed (reltuples -1: a fresh restore, a bulk load) or analyzed
		// while empty and filled since: the statistics say nothing, so count, up
		// to 100,000 rows (a table of 100 MB or more is big by its size alone),
		// when that runs no code (see above); else its size alone tells.
		std::string regclass = spi::get_text(0, 3).value_or("");
		bool can_count = spi::get_text(0, 4).value_or("f") == "t";
		if (can_count && !regclass.empty() && ti.bytes > 0 && ti.bytes < 100LL * 1024 * 1024 &&
		    (ti.rows < 0 || (ti.rows == 0 && ti.bytes > 8192))) {
			// regclass's text is the catalog's own quoted name, not migration text
			std::string count = "SELECT pg_catalog.count(*) FROM (SELECT FROM " + regclass + " LIMIT 100000) s";
			spi::execute(count.c_str());
			ti.rows = static_cast<double>(spi::get_int64(0, 1).value_or(0));
			ti.counted = true;
		}
		spi::execute(
		    "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
		    "WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped",
		    {spi::text(qualified)});
		for (uint64_t i = 0; i < spi::rows(); ++i)
			ti.columns.emplace_back(*spi::get_text(i, 1), *spi::get_text(i, 2));
		spi::execute(
		    "SELECT pg_catalog.array_to_string(ARRAY(SELECT a.attname FROM pg_catalog.unnest(i.indkey) WITH ORDINALITY "
		    "k(attnum, ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
		    "ORDER BY k.ord), ',') FROM pg_catalog.pg_index i WHERE i.indrelid = $1::pg_catalog.oid",
		    {spi::text(qualified)});
		for (uint64_t i = 0; i < spi::rows(); ++i) {
			std::vector<std::string> cols;
			std::string s = spi::get_text(i, 1).value_or("");
			size_t start = 0;
			while (!s.empty()) {
				size_t comma = s.find(',', start);
				cols.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
				if (comma == std::string::npos)
					break;
				start = comma + 1;
			}
			ti.indexes.push_back(cols);
		}
		return ti;
	};
}

}  // namespace dbkit
