#include "lint_rules.hpp"

#include "code_drift.hpp"  // catalog_ident

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

namespace dbkit::core {

namespace {

// "public.users" / "users" / "\"Users\"" -> "users" for matching within a migration.
std::string base_name(const std::string &table) {
	size_t dot = table.rfind('.');
	return dot == std::string::npos ? table : table.substr(dot + 1);
}

constexpr double kBigRows = 100000;
constexpr int64_t kBigBytes = 100LL * 1024 * 1024;

struct Ctx {
	const TableLookup &lookup;
	std::set<std::string> created;  // tables created earlier in this migration
	std::vector<LintFinding> out;

	// Severity for a hazard on `table`: empty string means "no hazard at all".
	std::string severity(const std::string &table, const char *offline) {
		if (created.count(base_name(table)))
			return "";  // created in this migration: empty, nothing to lose or lock
		if (!lookup)
			return offline;
		std::optional<TableInfo> ti = lookup(table);
		if (!ti)
			return "info";  // created by an earlier pending migration: empty when this runs
		// empty: no pages at all, or analyzed with no rows (never analyzed: reltuples < 0)
		if (ti->bytes == 0 || (ti->rows == 0 && ti->bytes <= 8192))
			return "info";
		if (std::string(offline) == "warning" && (ti->rows >= kBigRows || ti->bytes >= kBigBytes))
			return "error";
		return offline;
	}
	std::string size_note(const std::string &table) {
		if (!lookup || created.count(base_name(table)))
			return "";
		std::optional<TableInfo> ti = lookup(table);
		if (!ti)
			return " (the table does not exist yet: it will be empty)";
		if (ti->counted)
			return fmt::format(" ({} has {}{:.0f} rows (counted: its statistics are missing or stale), {} kB)", table,
			                   ti->rows >= kBigRows ? "at least " : "", ti->rows, ti->bytes / 1024);
		if (ti->rows < 0)
			return fmt::format(" ({} was never analyzed; {} kB)", table, ti->bytes / 1024);
		return fmt::format(" ({} has about {:.0f} rows, {} kB)", table, ti->rows, ti->bytes / 1024);
	}
	// Severity for a statement that fails outright on a table with rows.
	std::string fails_if_rows(const std::string &table) {
		std::string sev = severity(table, "warning");
		return sev == "warning" && lookup ? "error" : sev;
	}
	void add(const std::string &sev, const char *rule, const LintStatement &s, std::string msg, std::string hint) {
		if (sev.empty())
			return;
		out.push_back({sev, rule, s.number, s.line, std::move(msg), std::move(hint)});
	}
};

bool covers(const std::vector<std::string> &index, const std::vector<std::string> &fk) {
	if (index.size() < fk.size())
		return false;
	std::vector<std::string> lead(index.begin(), index.begin() + static_cast<long>(fk.size()));
	std::vector<std::string> want = fk;
	std::sort(lead.begin(), lead.end());
	std::sort(want.begin(), want.end());
	return lead == want;
}

std::string joined(const std::vector<std::string> &v) {
	std::string s;
	for (const auto &x : v)
		s += (s.empty() ? "" : ", ") + x;
	return s;
}

// Takes the names both lists hold out of both.
void unshared(std::vector<std::string> &a, std::vector<std::string> &b) {
	std::vector<std::string> ka, kb;
	for (const auto &x : a)
		if (std::find(b.begin(), b.end(), x) == b.end())
			ka.push_back(x);
	for (const auto &x : b)
		if (std::find(a.begin(), a.end(), x) == a.end())
			kb.push_back(x);
	a = std::move(ka);
	b = std::move(kb);
}

// Names in a hint's SQL, quoted where PostgreSQL would need it (the parse tree holds them
// unquoted: "group", a reserved word; "Chat", created quoted), so the SQL runs as given.
// A qualified name is split at its first dot.
std::string sql_name(const std::string &raw) {
	size_t dot = raw.find('.');
	return dot == std::string::npos ? catalog_ident(raw)
	                                : catalog_ident(raw.substr(0, dot)) + "." + catalog_ident(raw.substr(dot + 1));
}
std::string sql_names(const std::vector<std::string> &v) {
	std::string s;
	for (const auto &x : v)
		s += (s.empty() ? "" : ", ") + catalog_ident(x);
	return s;
}

int type_rank(const std::string &t) {
	static const std::map<std::string, int> rank = {{"smallint", 1}, {"integer", 2}, {"bigint", 3}, {"numeric", 4},
	                                                {"real", 2}, {"double precision", 3}};
	auto it = rank.find(t);
	return it == rank.end() ? 0 : it->second;
}

// "character varying(20)" -> ("character varying", 20); no modifier -> -1
std::pair<std::string, long> split_mod(const std::string &t) {
	size_t p = t.find('(');
	if (p == std::string::npos)
		return {t, -1};
	return {t.substr(0, p), std::strtol(t.c_str() + p + 1, nullptr, 10)};
}

}  // namespace

const char *const *volatile_function_names() {
	static const char *const names[] = {"random", "clock_timestamp", "timeofday", "gen_random_uuid",
	                                    "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
	                                    "nextval", "txid_current", "statement_timestamp", "setseed",
	                                    "gen_random_bytes", "random_normal", nullptr};
	return names;
}

bool is_volatile_function(const std::string &name) {
	std::string n = base_name(name);
	for (auto &c : n)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	for (const char *const *v = volatile_function_names(); *v; ++v)
		if (n == *v)
			return true;
	return false;
}

bool widening_without_rewrite(const std::string &from, const std::string &to) {
	auto [fb, fm] = split_mod(from);
	auto [tb, tm] = split_mod(to);
	bool text_like = fb == "character varying" || fb == "text";
	if (!text_like)
		return false;
	if (tb == "text")
		return true;
	return tb == "character varying" && fb == "character varying" && (tm < 0 || (fm >= 0 && tm >= fm));
}

bool narrowing(const std::string &from, const std::string &to) {
	if (from == to)
		return false;
	auto [fb, fm] = split_mod(from);
	auto [tb, tm] = split_mod(to);
	if (fb == tb)
		return tm >= 0 && (fm < 0 || tm < fm);  // varchar(50) -> varchar(20), numeric(12) -> numeric(8)
	if ((fb == "text" || fb == "character varying") && (tb == "character varying" || tb == "character"))
		return tm >= 0;
	int rf = type_rank(fb), rt = type_rank(tb);
	if (rf && rt)
		return rt < rf;
	if (fb.rfind("timestamp", 0) == 0 && tb == "date")
		return true;
	return false;
}

std::set<std::string> waived_rules(const std::string &text) {
	std::set<std::string> out;
	const std::string marker = "dbkit:allow";
	for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
		size_t end = text.find('\n', at);
		std::string rest = text.substr(at + marker.size(), end == std::string::npos ? std::string::npos : end - at - marker.size());
		std::string word;
		for (char c : rest + " ") {
			if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') {
				word += c;
			} else if (!word.empty()) {
				out.insert(word);
				word.clear();
			}
		}
	}
	return out;
}

std::vector<LintFinding> lint_migration(const std::vector<LintStatement> &stmts, const std::string &file_text,
                                        const TableLookup &lookup) {
	Ctx c{lookup, {}, {}};
	// index column lists known per table (base name), from this migration
	std::map<std::string, std::vector<std::vector<std::string>>> indexes;
	for (const auto &s : stmts) {
		if (s.kind == LintStatement::Kind::CreateIndex && !s.tables.empty())
			indexes[base_name(s.tables[0])].push_back(s.index_columns);
		if (s.kind == LintStatement::Kind::CreateTable && !s.tables.empty())
			for (const auto &k : s.unique_keys)
				indexes[base_name(s.tables[0])].push_back(k);
		if (s.kind == LintStatement::Kind::AlterTable && !s.tables.empty())
			for (const auto &cmd : s.cmds)
				if (cmd.type == AlterCmd::Type::AddPrimaryKey || cmd.type == AlterCmd::Type::AddUnique)
					indexes[base_name(s.tables[0])].push_back(cmd.columns);
	}
	auto fk_without_index = [&](const LintStatement &s, const std::string &table, const std::vector<std::string> &fk) {
		for (const auto &ix : indexes[base_name(table)])
			if (covers(ix, fk))
				return;
		if (lookup && !c.created.count(base_name(table)))
			if (auto ti = lookup(table))
				for (const auto &ix : ti->indexes)
					if (covers(ix, fk))
						return;
		c.add("warning", "schema.fk-without-index", s,
		      fmt::format("statement {} (line {}): foreign key ({}) on {} has no index on its columns", s.number, s.line,
		                  joined(fk), table),
		      fmt::format("Deletes and updates of the referenced rows scan {} without one: CREATE INDEX ON {} ({}).", table,
		                  sql_name(table), sql_names(fk)));
	};

	bool has_no_tx = false, has_tx = false;
	std::map<std::string, std::string> added_enum_values;  // value -> statement
	for (const auto &s : stmts) {
		if (s.kind == LintStatement::Kind::Commit) {
			added_enum_values.clear();  // the file's own COMMIT: a value added before it is committed
			continue;
		}
		(s.kind == LintStatement::Kind::NoTransaction ? has_no_tx : has_tx) = true;
		const std::string table = s.tables.empty() ? "" : s.tables[0];
		// Another ADD VALUE is never a use: the same label added to another enum (Dokploy's
		// 0033: 'gitlab' to two enums), or a value placed BEFORE/AFTER the new one, which
		// PostgreSQL reads from pg_enum without the check that raises 55P04.
		// Nor is a new enum's label list (glitter-nextjs: 'failed' added to one enum, then
		// CREATE TYPE ... AS ENUM (..., 'failed') of another): its labels are not values in use.
		// From a new enum with the same label on, a quoted 'value' may be that enum's (ctrlplane:
		// 'resource' added to scope_type, then variable_scope AS ENUM ('resource', ...) used): no
		// longer told a use of the added one.
		if (s.kind == LintStatement::Kind::CreateEnum)
			for (auto it = added_enum_values.begin(); it != added_enum_values.end();)
				it = s.text.find("'" + it->first + "'") != std::string::npos ? added_enum_values.erase(it) : std::next(it);
		for (const auto &[value, where] : added_enum_values)
			if (s.kind != LintStatement::Kind::AddEnumValue && s.kind != LintStatement::Kind::CreateEnum &&
			    s.text.find("'" + value + "'") != std::string::npos)
				c.add("error", "tx.enum-value-used", s,
				      fmt::format("statement {} (line {}) uses enum value '{}' added by {} in the same transaction", s.number,
				                  s.line, value, where),
				      "PostgreSQL refuses it (SQLSTATE 55P04): move the statements that use the new value to a later "
				      "migration and run with --transaction=each.");
		switch (s.kind) {
		case LintStatement::Kind::CreateTable:
			if (!s.has_primary_key && !s.is_partition)
				c.add("warning", "schema.no-primary-key", s,
				      fmt::format("statement {} (line {}): table {} has no primary key", s.number, s.line, table),
				      "Add a primary key: replication, deduplication and most tools need one.");
			for (const auto &fk : s.foreign_keys)
				fk_without_index(s, table, fk);
			c.created.insert(base_name(table));
			break;
		case LintStatement::Kind::DropTable:
			for (const auto &t : s.tables)
				c.add(c.severity(t, "error"), "data-loss.drop-table", s,
				      fmt::format("statement {} (line {}): DROP TABLE {} deletes its data{}", s.number, s.line, t, c.size_note(t)),
				      "Make sure the data is no longer needed (or backed up); waive with -- dbkit:allow data-loss.drop-table");
			break;
		case LintStatement::Kind::DropSchema:
			c.add("error", "data-loss.drop-schema", s,
			      fmt::format("statement {} (line {}): DROP SCHEMA {} deletes everything in it", s.number, s.line, joined(s.tables)),
			      "Waive with -- dbkit:allow data-loss.drop-schema once the data is no longer needed.");
			break;
		case LintStatement::Kind::DropType:
			c.add("warning", "data-loss.drop-type", s,
			      fmt::format("statement {} (line {}): DROP TYPE {} (with CASCADE it drops the columns using it)", s.number,
			                  s.line, joined(s.tables)),
			      "Check no column still uses the type; waive with -- dbkit:allow data-loss.drop-type");
			break;
		case LintStatement::Kind::Truncate:
			for (const auto &t : s.tables)
				c.add(c.severity(t, "error"), "data-loss.truncate", s,
				      fmt::format("statement {} (line {}): TRUNCATE {} deletes every row{}", s.number, s.line, t, c.size_note(t)),
				      "Waive with -- dbkit:allow data-loss.truncate if that is the intent.");
			break;
		case LintStatement::Kind::DeleteAll:
		case LintStatement::Kind::UpdateAll: {
			bool del = s.kind == LintStatement::Kind::DeleteAll;
			c.add(c.severity(table, "error"), del ? "data-loss.delete-all" : "data-loss.update-all", s,
			      fmt::format("statement {} (line {}): {} {} without WHERE changes every row{}", s.number, s.line,
			                  del ? "DELETE FROM" : "UPDATE", table, c.size_note(table)),
			      fmt::format("Add a WHERE clause, or waive with -- dbkit:allow {}", del ? "data-loss.delete-all" : "data-loss.update-all"));
			break;
		}
		case LintStatement::Kind::CreateIndex:
			if (!s.concurrently)
				c.add(c.severity(table, "warning"), "lock.create-index", s,
				      fmt::format("statement {} (line {}): CREATE INDEX on {} blocks writes to the table while it builds{}",
				                  s.number, s.line, table, c.size_note(table)),
				      "Use CREATE INDEX CONCURRENTLY in a migration of its own (dbkit runs it outside a transaction).");
			break;
		case LintStatement::Kind::AddEnumValue:
			added_enum_values[s.enum_value] = fmt::format("statement {}", s.number);
			break;
		case LintStatement::Kind::AlterTable: {
			std::vector<std::string> dropped, added;
			std::optional<TableInfo> ti = lookup && !c.created.count(base_name(table)) ? lookup(table) : std::nullopt;
			for (const auto &cmd : s.cmds) {
				switch (cmd.type) {
				case AlterCmd::Type::DropColumn:
					dropped.push_back(cmd.column);
					c.add(c.severity(table, "error"), "data-loss.drop-column", s,
					      fmt::format("statement {} (line {}): dropping column {}.{} deletes its data{}", s.number, s.line,
					                  table, cmd.column, c.size_note(table)),
					      "Stop using the column in the code first; waive with -- dbkit:allow data-loss.drop-column");
					break;
				case AlterCmd::Type::AddColumn:
					added.push_back(cmd.column);
					if (cmd.not_null && !cmd.has_default && !cmd.identity && !cmd.generated_stored && !cmd.serial)
						c.add(c.fails_if_rows(table), "schema.add-not-null-without-default", s,
						      fmt::format("statement {} (line {}): adding {}.{} NOT NULL without a default fails as soon "
						                  "as the table has a row (SQLSTATE 23502){}",
						                  s.number, s.line, table, cmd.column, c.size_note(table)),
						      "Add the column with a constant DEFAULT (PostgreSQL 11+ stores it without a rewrite), or "
						      "add it nullable, backfill it, then SET NOT NULL.");
					if (cmd.serial || cmd.identity || cmd.generated_stored)
						c.add(c.severity(table, "warning"), "lock.add-column-rewrite", s,
						      fmt::format("statement {} (line {}): adding {}.{} as {} rewrites the table under an ACCESS "
						                  "EXCLUSIVE lock to fill in every row{}",
						                  s.number, s.line, table, cmd.column,
						                  cmd.serial ? "a serial column" : cmd.identity ? "an identity column"
						                                                            : "a GENERATED ... STORED column",
						                  c.size_note(table)),
						      cmd.generated_stored
						          ? "Add a plain nullable column, backfill it in batches and keep it up to date with a "
						            "trigger; or accept the rewrite in a maintenance window."
						          : "Add a nullable bigint column, create the sequence (or identity) for new rows, "
						            "backfill existing rows in batches; or accept the rewrite in a maintenance window.");
					if (cmd.inline_unique || cmd.inline_primary_key)
						c.add(c.severity(table, "warning"), cmd.inline_primary_key ? "lock.add-primary-key" : "lock.add-unique", s,
						      fmt::format("statement {} (line {}): adding {}.{} with {} builds an index over every row "
						                  "under an ACCESS EXCLUSIVE lock{}",
						                  s.number, s.line, table, cmd.column,
						                  cmd.inline_primary_key ? "PRIMARY KEY" : "UNIQUE", c.size_note(table)),
						      fmt::format("Add the column, then CREATE UNIQUE INDEX CONCURRENTLY in a migration of its own, "
						                  "then ADD CONSTRAINT ... {} USING INDEX.",
						                  cmd.inline_primary_key ? "PRIMARY KEY" : "UNIQUE"));
					if (cmd.volatile_default)
						c.add(c.severity(table, "warning"), "lock.volatile-default", s,
						      fmt::format("statement {} (line {}): adding {}.{} with a volatile default rewrites the table "
						                  "under an ACCESS EXCLUSIVE lock{}",
						                  s.number, s.line, table, cmd.column, c.size_note(table)),
						      "Add the column without the default (or with a constant one), then backfill in batches.");
					break;
				case AlterCmd::Type::AlterType: {
					std::string from;
					if (ti)
						for (const auto &[name, type] : ti->columns)
							if (name == cmd.column)
								from = type;
					if (!from.empty() && widening_without_rewrite(from, cmd.new_type))
						break;  // varchar(n) -> varchar(m >= n) or text: PostgreSQL rewrites nothing
					if (!from.empty() && narrowing(from, cmd.new_type))
						c.add(c.severity(table, "error"), "data-loss.narrowing-type", s,
						      fmt::format("statement {} (line {}): {}.{} changes from {} to {}, which can lose or reject data{}",
						                  s.number, s.line, table, cmd.column, from, cmd.new_type, c.size_note(table)),
						      "Check the existing values fit, or add a new column and backfill.");
					c.add(c.severity(table, "warning"), "lock.alter-type", s,
					      fmt::format("statement {} (line {}): changing the type of {}.{} to {} rewrites the table under an "
					                  "ACCESS EXCLUSIVE lock{}",
					                  s.number, s.line, table, cmd.column, cmd.new_type, c.size_note(table)),
					      "Add a new column, backfill it in batches, then switch over.");
					break;
				}
				case AlterCmd::Type::SetNotNull:
					c.add(c.severity(table, "warning"), "lock.set-not-null", s,
					      fmt::format("statement {} (line {}): SET NOT NULL on {}.{} scans the table under an ACCESS "
					                  "EXCLUSIVE lock{}",
					                  s.number, s.line, table, cmd.column, c.size_note(table)),
					      fmt::format("First ADD CONSTRAINT ... CHECK ({} IS NOT NULL) NOT VALID, then VALIDATE CONSTRAINT, "
					                  "then SET NOT NULL (PostgreSQL skips the scan).",
					                  catalog_ident(cmd.column)));
					break;
				case AlterCmd::Type::AddForeignKey:
					if (!cmd.not_valid)
						c.add(c.severity(table, "warning"), "lock.add-foreign-key", s,
						      fmt::format("statement {} (line {}): adding a foreign key on {} validates every row while "
						                  "holding locks on both tables{}",
						                  s.number, s.line, table, c.size_note(table)),
						      "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later migration.");
					fk_without_index(s, table, cmd.columns);
					break;
				case AlterCmd::Type::AddCheck:
					if (!cmd.not_valid)
						c.add(c.severity(table, "warning"), "lock.add-check", s,
						      fmt::format("statement {} (line {}): adding a CHECK on {} scans the table under an ACCESS "
						                  "EXCLUSIVE lock{}",
						                  s.number, s.line, table, c.size_note(table)),
						      "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later migration.");
					break;
				case AlterCmd::Type::AddUnique:
				case AlterCmd::Type::AddPrimaryKey: {
					if (cmd.using_index)
						break;  // the index was built beforehand (CONCURRENTLY, we hope): only a catalog change
					bool pk = cmd.type == AlterCmd::Type::AddPrimaryKey;
					c.add(c.severity(table, "warning"), pk ? "lock.add-primary-key" : "lock.add-unique", s,
					      fmt::format("statement {} (line {}): ADD CONSTRAINT ... {} ({}) on {} builds a unique index "
					                  "over every row under an ACCESS EXCLUSIVE lock{}{}",
					                  s.number, s.line, pk ? "PRIMARY KEY" : "UNIQUE", joined(cmd.columns), table,
					                  pk ? " (and scans for NULLs)" : "", c.size_note(table)),
					      fmt::format("CREATE UNIQUE INDEX CONCURRENTLY {}_key_idx ON {} ({}) in a migration of its "
					                  "own, then ALTER TABLE {} ADD CONSTRAINT ... {} USING INDEX {}_key_idx.",
					                  base_name(table), sql_name(table), sql_names(cmd.columns), sql_name(table),
					                  pk ? "PRIMARY KEY" : "UNIQUE", base_name(table)));
					break;
				}
				case AlterCmd::Type::AddExclude:
					c.add(c.severity(table, "warning"), "lock.add-exclude", s,
					      fmt::format("statement {} (line {}): ADD CONSTRAINT ... EXCLUDE on {} builds its index over "
					                  "every row under an ACCESS EXCLUSIVE lock{}",
					                  s.number, s.line, table, c.size_note(table)),
					      "An exclusion constraint cannot be added USING INDEX: add it while the table is small, or "
					      "in a maintenance window.");
					break;
				default:
					break;
				}
			}
			// a column dropped and added under its own name is recreated, not renamed (onlook's 0009)
			unshared(dropped, added);
			if (!dropped.empty() && !added.empty())
				c.add("warning", "rename.drop-add", s,
				      fmt::format("statement {} (line {}): {} drops {} and adds {}: if this is a rename, the data is lost",
				                  s.number, s.line, table, joined(dropped), joined(added)),
				      fmt::format("Use ALTER TABLE {} RENAME COLUMN {} TO {};", sql_name(table), catalog_ident(dropped[0]),
				                  catalog_ident(added[0])));
			break;
		}
		default:
			break;
		}
	}
	// drop + add split across statements of one migration, on one table
	{
		std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> per_table;
		std::map<std::string, const LintStatement *> where;
		for (const auto &s : stmts)
			if (s.kind == LintStatement::Kind::AlterTable && !s.tables.empty()) {
				auto &[d, a] = per_table[base_name(s.tables[0])];
				bool both = false, has_d = false, has_a = false;
				for (const auto &cmd : s.cmds) {
					has_d |= cmd.type == AlterCmd::Type::DropColumn;
					has_a |= cmd.type == AlterCmd::Type::AddColumn;
				}
				both = has_d && has_a;
				if (both)
					continue;  // reported above
				for (const auto &cmd : s.cmds) {
					if (cmd.type == AlterCmd::Type::DropColumn)
						d.push_back(cmd.column);
					if (cmd.type == AlterCmd::Type::AddColumn)
						a.push_back(cmd.column);
				}
				where[base_name(s.tables[0])] = &s;
			}
		for (auto &[t, da] : per_table)
			if (unshared(da.first, da.second); !da.first.empty() && !da.second.empty())
				c.add("warning", "rename.drop-add", *where[t],
				      fmt::format("{} drops {} and adds {} in one migration: if this is a rename, the data is lost", t,
				                  joined(da.first), joined(da.second)),
				      fmt::format("Use ALTER TABLE {} RENAME COLUMN {} TO {};", sql_name(t), catalog_ident(da.first[0]),
				                  catalog_ident(da.second[0])));
	}
	if (has_no_tx && has_tx)
		for (const auto &s : stmts)
			if (s.kind == LintStatement::Kind::NoTransaction)
				c.add("warning", "tx.non-transactional", s,
				      fmt::format("statement {} (line {}): {} cannot run in a transaction, so this whole migration runs "
				                  "statement by statement without one; a failure leaves it half-applied",
				                  s.number, s.line, s.command),
				      "Put the statement in a migration of its own.");

	std::set<std::string> waived = waived_rules(file_text);
	std::vector<LintFinding> kept;
	for (auto &f : c.out)
		if (!waived.count(f.rule))
			kept.push_back(std::move(f));
	return kept;
}

std::vector<RunFinding> lint_run(const std::vector<RunMigration> &run) {
	std::vector<RunFinding> out;
	struct Added {
		std::string value, where;  // the label, "0049_x.sql statement 3"
		size_t migration;
	};
	std::vector<Added> added;  // by earlier migrations of the transaction a default run opens
	for (size_t i = 0; i < run.size(); ++i) {
		const RunMigration &m = run[i];
		if (m.non_transactional || !m.statements) {
			added.clear();  // the run's transaction commits before it; it commits its own values as it goes
			continue;
		}
		std::set<std::string> waived = waived_rules(std::string(m.file_text));
		std::set<std::string> said;  // one finding per value and migration
		for (const auto &s : *m.statements) {
			if (s.kind == LintStatement::Kind::CreateEnum)  // its labels may be what later statements use
				added.erase(std::remove_if(added.begin(), added.end(),
				                           [&](const Added &a) { return s.text.find("'" + a.value + "'") != std::string::npos; }),
				            added.end());
			if (s.kind == LintStatement::Kind::AddEnumValue || s.kind == LintStatement::Kind::CreateEnum ||
			    waived.count("tx.enum-value-used"))
				continue;
			for (const auto &a : added)
				if (!said.count(a.value) && s.text.find("'" + a.value + "'") != std::string::npos) {
					said.insert(a.value);
					out.push_back(
					    {i,
					     {"warning", "tx.enum-value-used", s.number, s.line,
					      fmt::format("statement {} (line {}) uses enum value '{}', added by {}: a default deploy "
					                  "(--transaction all) runs both migrations in one transaction, where PostgreSQL "
					                  "refuses the use (SQLSTATE 55P04) and nothing is applied",
					                  s.number, s.line, a.value, a.where),
					      fmt::format("Deploy with dbkit migrate --transaction each (each migration commits before the "
					                  "next). Waive with -- dbkit:allow tx.enum-value-used in {} if every deploy reaching "
					                  "it commits {} first.",
					                  m.file, run[a.migration].file)}});
				}
		}
		for (const auto &s : *m.statements)
			if (s.kind == LintStatement::Kind::AddEnumValue)
				added.push_back({s.enum_value, fmt::format("{} statement {}", m.file, s.number), i});
	}
	return out;
}

}  // namespace dbkit::core
