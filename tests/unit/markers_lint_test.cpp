#include <gtest/gtest.h>

#include <algorithm>

#include "core/lint_rules.hpp"
#include "core/markers.hpp"

using namespace dbkit::core;

TEST(Markers, NoTransactionMarkersOfSeveralTools) {
	EXPECT_TRUE(read_markers("-- dbkit:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);").no_transaction);
	EXPECT_TRUE(read_markers("-- atlas:txmode none\nSELECT 1;").no_transaction);
	EXPECT_TRUE(read_markers("-- +goose NO TRANSACTION\nSELECT 1;").no_transaction);
	EXPECT_TRUE(read_markers("-- migrate:up transaction:false\nSELECT 1;").no_transaction);
	EXPECT_FALSE(read_markers("SELECT '-- not a comment at all';").no_transaction);
	EXPECT_FALSE(read_markers("CREATE TABLE t (a int);").no_transaction);
}

TEST(Markers, Timeouts) {
	Markers m = read_markers("-- dbkit:lock_timeout=30s\n-- dbkit:statement_timeout=10min\nSELECT 1;");
	EXPECT_EQ(m.lock_timeout_ms, 30000);
	EXPECT_EQ(m.statement_timeout_ms, 600000);
	EXPECT_EQ(parse_duration_ms("500ms"), 500);
	EXPECT_EQ(parse_duration_ms("1500"), 1500);
	EXPECT_EQ(parse_duration_ms("2h"), 7200000);
	EXPECT_FALSE(parse_duration_ms("soon"));
	EXPECT_FALSE(parse_duration_ms(""));
}

namespace {
LintStatement stmt(LintStatement::Kind k, std::vector<std::string> tables, int n = 1) {
	LintStatement s;
	s.kind = k;
	s.tables = std::move(tables);
	s.number = n;
	s.line = n;
	return s;
}
AlterCmd column_cmd(AlterCmd::Type type, std::string column) {
	AlterCmd c;
	c.type = type;
	c.column = std::move(column);
	return c;
}
bool has(const std::vector<LintFinding> &fs, const std::string &rule, const std::string &severity = "") {
	return std::any_of(fs.begin(), fs.end(),
	                   [&](const LintFinding &f) { return f.rule == rule && (severity.empty() || f.severity == severity); });
}
}  // namespace

TEST(Lint, DataLossAndLocksOffline) {
	auto drop = stmt(LintStatement::Kind::DropTable, {"users"});
	auto idx = stmt(LintStatement::Kind::CreateIndex, {"users"}, 2);
	auto fs = lint_migration({drop, idx}, "", {});
	EXPECT_TRUE(has(fs, "data-loss.drop-table", "error"));
	EXPECT_TRUE(has(fs, "lock.create-index", "warning"));
	idx.concurrently = true;
	EXPECT_FALSE(has(lint_migration({idx}, "", {}), "lock.create-index"));
}

TEST(Lint, TablesCreatedInTheMigrationAreNoHazard) {
	auto create = stmt(LintStatement::Kind::CreateTable, {"t"});
	create.has_primary_key = true;
	auto idx = stmt(LintStatement::Kind::CreateIndex, {"t"}, 2);
	EXPECT_TRUE(lint_migration({create, idx}, "", {}).empty());
}

TEST(Lint, SeverityFollowsTheTableWhenConnected) {
	auto idx = stmt(LintStatement::Kind::CreateIndex, {"t"});
	TableLookup big = [](const std::string &) { return std::optional<TableInfo>(TableInfo{500000, 1LL << 30, {}, {}}); };
	TableLookup empty = [](const std::string &) { return std::optional<TableInfo>(TableInfo{0, 0, {}, {}}); };
	TableLookup absent = [](const std::string &) { return std::optional<TableInfo>(); };
	EXPECT_TRUE(has(lint_migration({idx}, "", big), "lock.create-index", "error"));
	EXPECT_TRUE(has(lint_migration({idx}, "", empty), "lock.create-index", "info"));
	EXPECT_TRUE(has(lint_migration({idx}, "", absent), "lock.create-index", "info"));
}

TEST(Lint, WaiverComment) {
	auto drop = stmt(LintStatement::Kind::DropTable, {"users"});
	EXPECT_TRUE(lint_migration({drop}, "-- dbkit:allow data-loss.drop-table\nDROP TABLE users;", {}).empty());
	EXPECT_FALSE(lint_migration({drop}, "-- dbkit:allow lock.create-index\nDROP TABLE users;", {}).empty());
}

TEST(Lint, RenameAndEnumAndFk) {
	auto alter = stmt(LintStatement::Kind::AlterTable, {"users"});
	alter.cmds = {column_cmd(AlterCmd::Type::DropColumn, "bio"), column_cmd(AlterCmd::Type::AddColumn, "about")};
	auto fs = lint_migration({alter}, "", {});
	EXPECT_TRUE(has(fs, "rename.drop-add"));
	auto add_value = stmt(LintStatement::Kind::AddEnumValue, {});
	add_value.enum_value = "archived";
	auto use = stmt(LintStatement::Kind::Other, {}, 2);
	use.text = "UPDATE posts SET status = 'archived' WHERE id = 1";
	EXPECT_TRUE(has(lint_migration({add_value, use}, "", {}), "tx.enum-value-used", "error"));
	// the file's own COMMIT between them (the usual fix, drizzle #3466): the value is committed first
	auto commit = stmt(LintStatement::Kind::Commit, {}, 2);
	use.number = 3;
	EXPECT_FALSE(has(lint_migration({add_value, commit, use}, "", {}), "tx.enum-value-used"));
	// the same label added to another enum (Dokploy's 0033_white_hawkeye: 'gitlab' to two enums) is no use
	auto add_other = stmt(LintStatement::Kind::AddEnumValue, {}, 2);
	add_other.enum_value = "archived";
	add_other.text = "ALTER TYPE \"other_status\" ADD VALUE 'archived'";
	EXPECT_FALSE(has(lint_migration({add_value, add_other}, "", {}), "tx.enum-value-used"));
	use.number = 3;
	EXPECT_TRUE(has(lint_migration({add_value, add_other, use}, "", {}), "tx.enum-value-used", "error"));
	// nor is a new enum listing the same label (glitter-nextjs: 'failed' added, then another
	// enum created with 'failed'), in the same file or a later migration of the run
	auto new_enum = stmt(LintStatement::Kind::CreateEnum, {}, 2);
	new_enum.text = "CREATE TYPE \"public\".\"doc_state\" AS ENUM('draft', 'archived')";
	EXPECT_FALSE(has(lint_migration({add_value, new_enum}, "", {}), "tx.enum-value-used"));
	std::vector<LintStatement> adds{add_value}, creates{new_enum};
	EXPECT_TRUE(lint_run({{"0001_a.sql", &adds, "", false}, {"0002_b.sql", &creates, "", false}}).empty());
	// and after it, a quoted 'archived' may be the new enum's (ctrlplane's variable_scope 'resource'):
	// no longer told a use of the added value, in the same file or later in the run
	use.number = 3;
	EXPECT_FALSE(has(lint_migration({add_value, new_enum, use}, "", {}), "tx.enum-value-used"));
	std::vector<LintStatement> creates_and_uses{new_enum, use};
	EXPECT_TRUE(lint_run({{"0001_a.sql", &adds, "", false}, {"0002_b.sql", &creates_and_uses, "", false}}).empty());
	std::vector<LintStatement> uses_only{use};
	EXPECT_FALSE(lint_run({{"0001_a.sql", &adds, "", false}, {"0002_b.sql", &uses_only, "", false}}).empty());
	auto create = stmt(LintStatement::Kind::CreateTable, {"posts"});
	create.has_primary_key = true;
	create.foreign_keys = {{"user_id"}};
	EXPECT_TRUE(has(lint_migration({create}, "", {}), "schema.fk-without-index"));
	auto index = stmt(LintStatement::Kind::CreateIndex, {"posts"}, 2);
	index.index_columns = {"user_id"};
	EXPECT_FALSE(has(lint_migration({create, index}, "", {}), "schema.fk-without-index"));
}

TEST(Lint, HintsQuoteNamesAsPostgreSQLNeeds) {
	// homarr: a foreign key on table "group" (a reserved word); ai-chatbot: table "Chat" (created quoted)
	auto create = stmt(LintStatement::Kind::CreateTable, {"group"});
	create.has_primary_key = true;
	create.foreign_keys = {{"ownerId"}};
	auto fs = lint_migration({create}, "", {});
	auto fk = std::find_if(fs.begin(), fs.end(), [](const LintFinding &f) { return f.rule == "schema.fk-without-index"; });
	ASSERT_NE(fk, fs.end());
	EXPECT_NE(fk->hint.find("CREATE INDEX ON \"group\" (\"ownerId\")"), std::string::npos) << fk->hint;
	auto alter = stmt(LintStatement::Kind::AlterTable, {"public.Chat"});
	alter.cmds = {column_cmd(AlterCmd::Type::DropColumn, "messages"), column_cmd(AlterCmd::Type::AddColumn, "title")};
	fs = lint_migration({alter}, "", {});
	auto rn = std::find_if(fs.begin(), fs.end(), [](const LintFinding &f) { return f.rule == "rename.drop-add"; });
	ASSERT_NE(rn, fs.end());
	EXPECT_NE(rn->hint.find("ALTER TABLE public.\"Chat\" RENAME COLUMN messages TO title"), std::string::npos) << rn->hint;
}

TEST(Lint, AColumnDroppedAndAddedUnderItsOwnNameIsNoRename) {
	// onlook's 0009: the same columns dropped and added again (a recreation, not a rename)
	auto alter = stmt(LintStatement::Kind::AlterTable, {"users"});
	AlterCmd d = column_cmd(AlterCmd::Type::DropColumn, "role"), a = column_cmd(AlterCmd::Type::AddColumn, "role");
	alter.cmds = {d, a};
	EXPECT_FALSE(has(lint_migration({alter}, "", {}), "rename.drop-add"));
	auto drop = stmt(LintStatement::Kind::AlterTable, {"users"});
	drop.cmds = {d};
	auto add = stmt(LintStatement::Kind::AlterTable, {"users"}, 2);
	add.cmds = {a};
	EXPECT_FALSE(has(lint_migration({drop, add}, "", {}), "rename.drop-add"));
	drop.cmds = {d, column_cmd(AlterCmd::Type::DropColumn, "bio")};
	add.cmds = {a, column_cmd(AlterCmd::Type::AddColumn, "kind")};
	EXPECT_TRUE(has(lint_migration({drop, add}, "", {}), "rename.drop-add")) << "bio dropped, kind added: still a candidate";
}

TEST(Lint, Narrowing) {
	EXPECT_TRUE(narrowing("bigint", "integer"));
	EXPECT_TRUE(narrowing("character varying(50)", "character varying(20)"));
	EXPECT_TRUE(narrowing("text", "character varying(20)"));
	EXPECT_FALSE(narrowing("integer", "bigint"));
	EXPECT_FALSE(narrowing("character varying(20)", "text"));
	EXPECT_TRUE(is_volatile_function("gen_random_uuid"));
	EXPECT_FALSE(is_volatile_function("now"));
}

// issue 17 item 9: what lint used to miss.
namespace {
LintStatement alter(const std::string &table, AlterCmd cmd) {
	auto s = stmt(LintStatement::Kind::AlterTable, {table});
	s.cmds.push_back(std::move(cmd));
	return s;
}
AlterCmd add_column(const std::string &col) {
	AlterCmd a;
	a.type = AlterCmd::Type::AddColumn;
	a.column = col;
	return a;
}
TableLookup sized(double rows, int64_t bytes, bool counted = false) {
	return [=](const std::string &) -> std::optional<TableInfo> {
		TableInfo ti;
		ti.rows = rows;
		ti.bytes = bytes;
		ti.counted = counted;
		return ti;
	};
}
}  // namespace

TEST(Lint, AddNotNullColumnWithoutDefault) {
	AlterCmd a = add_column("x");
	a.not_null = true;
	EXPECT_TRUE(has(lint_migration({alter("users", a)}, "", {}), "schema.add-not-null-without-default", "warning"));
	// connected: fails on any populated table, whatever its size
	EXPECT_TRUE(has(lint_migration({alter("users", a)}, "", sized(3, 8192)), "schema.add-not-null-without-default", "error"));
	EXPECT_TRUE(has(lint_migration({alter("users", a)}, "", sized(0, 0)), "schema.add-not-null-without-default", "info"));
	for (auto fill : {&AlterCmd::has_default, &AlterCmd::identity, &AlterCmd::generated_stored, &AlterCmd::serial}) {
		AlterCmd b = a;
		b.*fill = true;
		EXPECT_FALSE(has(lint_migration({alter("users", b)}, "", {}), "schema.add-not-null-without-default"));
	}
}

TEST(Lint, AddUniquePrimaryKeyExclude) {
	AlterCmd u;
	u.type = AlterCmd::Type::AddUnique;
	u.columns = {"email"};
	auto fs = lint_migration({alter("users", u)}, "", {});
	ASSERT_TRUE(has(fs, "lock.add-unique", "warning"));
	EXPECT_NE(fs[0].hint.find("CREATE UNIQUE INDEX CONCURRENTLY"), std::string::npos) << fs[0].hint;
	EXPECT_NE(fs[0].hint.find("UNIQUE USING INDEX"), std::string::npos) << fs[0].hint;
	EXPECT_TRUE(has(lint_migration({alter("users", u)}, "", sized(200000, 20 << 20)), "lock.add-unique", "error"));
	u.using_index = true;
	EXPECT_FALSE(has(lint_migration({alter("users", u)}, "", {}), "lock.add-unique"));
	AlterCmd pk;
	pk.type = AlterCmd::Type::AddPrimaryKey;
	pk.columns = {"id"};
	EXPECT_TRUE(has(lint_migration({alter("users", pk)}, "", {}), "lock.add-primary-key", "warning"));
	AlterCmd ex;
	ex.type = AlterCmd::Type::AddExclude;
	EXPECT_TRUE(has(lint_migration({alter("users", ex)}, "", {}), "lock.add-exclude", "warning"));
	AlterCmd col = add_column("code");
	col.inline_unique = true;
	EXPECT_TRUE(has(lint_migration({alter("users", col)}, "", {}), "lock.add-unique", "warning"));
	// a table created in the same migration is no hazard
	auto create = stmt(LintStatement::Kind::CreateTable, {"users"});
	create.has_primary_key = true;
	EXPECT_TRUE(lint_migration({create, alter("users", u), alter("users", ex)}, "", {}).empty());
}

TEST(Lint, AddColumnsThatRewrite) {
	for (auto kind : {&AlterCmd::serial, &AlterCmd::identity, &AlterCmd::generated_stored}) {
		AlterCmd a = add_column("n");
		a.*kind = true;
		EXPECT_TRUE(has(lint_migration({alter("users", a)}, "", {}), "lock.add-column-rewrite", "warning"));
		EXPECT_TRUE(has(lint_migration({alter("users", a)}, "", sized(500000, 200 << 20)), "lock.add-column-rewrite", "error"));
	}
	EXPECT_FALSE(has(lint_migration({alter("users", add_column("plain"))}, "", {}), "lock.add-column-rewrite"));
}

TEST(Lint, CountedRowsOfANeverAnalyzedTableMakeErrors) {
	// catalog_lookup counts a never-analyzed table's rows: 200,000 of them in 9 MB
	AlterCmd t;
	t.type = AlterCmd::Type::SetNotNull;
	t.column = "x";
	auto fs = lint_migration({alter("users", t)}, "", sized(100000, 9 << 20, true));
	ASSERT_TRUE(has(fs, "lock.set-not-null", "error"));
	EXPECT_NE(fs[0].message.find("at least 100000 rows (counted"), std::string::npos) << fs[0].message;
}

TEST(Markers, Irreversible) {
	EXPECT_TRUE(read_markers("-- dbkit:irreversible: the dropped column's data is gone\nSELECT 1;").irreversible);
	EXPECT_TRUE(read_markers("SELECT 1; -- DBKIT:IRREVERSIBLE").irreversible);
	EXPECT_FALSE(read_markers("DROP TABLE t;").irreversible);
}

// A value one pending migration adds and a later one uses: a default deploy runs both
// in one transaction (PageSpace's 0049 adds, 0094 uses: 55P04 at deploy time).
TEST(Lint, EnumValueAddedByAnEarlierMigrationOfTheRun) {
	auto add_value = stmt(LintStatement::Kind::AddEnumValue, {});
	add_value.enum_value = "archived";
	add_value.text = "ALTER TYPE \"status\" ADD VALUE 'archived'";
	auto use = stmt(LintStatement::Kind::Other, {}, 2);
	use.text = "UPDATE posts SET status = 'archived' WHERE id = 1";
	auto other = stmt(LintStatement::Kind::Other, {});
	other.text = "CREATE TABLE t (id int)";
	std::vector<LintStatement> adds{add_value}, uses{other, use}, plain{other};
	auto found = lint_run({{"0049_a.sql", &adds, "", false}, {"0050_b.sql", &plain, "", false},
	                       {"0094_c.sql", &uses, "", false}});
	ASSERT_EQ(found.size(), 1u);
	EXPECT_EQ(found[0].migration, 2u);
	EXPECT_EQ(found[0].finding.rule, "tx.enum-value-used");
	EXPECT_EQ(found[0].finding.severity, "warning");
	EXPECT_EQ(found[0].finding.statement, 2);
	EXPECT_NE(found[0].finding.message.find("0049_a.sql statement 1"), std::string::npos);
	EXPECT_NE(found[0].finding.hint.find("--transaction each"), std::string::npos);
	// a non-transactional migration between them ends the run's transaction
	EXPECT_TRUE(lint_run({{"0049_a.sql", &adds, "", false}, {"0050_b.sql", &plain, "", true},
	                      {"0094_c.sql", &uses, "", false}})
	                .empty());
	// values a non-transactional migration adds are committed as it goes
	EXPECT_TRUE(lint_run({{"0049_a.sql", &adds, "", true}, {"0094_c.sql", &uses, "", false}}).empty());
	// the file's waiver
	EXPECT_TRUE(lint_run({{"0049_a.sql", &adds, "", false},
	                      {"0094_c.sql", &uses, "-- dbkit:allow tx.enum-value-used\n", false}})
	                .empty());
	// another ADD VALUE of the same label is no use; a use within one file is lint_migration's
	std::vector<LintStatement> both{add_value, use};
	EXPECT_TRUE(lint_run({{"0049_a.sql", &adds, "", false}, {"0050_b.sql", &adds, "", false}}).empty());
	EXPECT_TRUE(lint_run({{"0049_a.sql", &both, "", false}}).empty());
}
