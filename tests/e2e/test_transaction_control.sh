#!/usr/bin/env bash
# Transaction control a migration's author wrote (issue 11, item 1): a file wrapped in
# BEGIN ... COMMIT runs as one transaction; COMMIT inside (the ADD VALUE workaround) or
# several blocks run statement by statement, each block as one transaction; what
# cannot be honoured is refused naming the statement. Same rule in check, lint,
# status and --dry-run.
source "$DBKIT_SRC/tests/e2e/lib.sh"

# --- a file wholly wrapped in BEGIN ... COMMIT (one chunk, as hand-written files are)
case_begin "wrapped file"
fresh_db e2e_tx_wrapped
m=$WORK/wrapped
mkdir -p "$m"
printf 'BEGIN;\nCREATE TABLE "w_a" ("id" integer PRIMARY KEY);\nCREATE TABLE "w_b" ("id" integer PRIMARY KEY);\nCOMMIT;\n' >"$m/0000_wrapped.sql"
write_journal "$m" 0000_wrapped
run check --dir "$m" --json
assert_eq 0 "$RC" "check: a wrapped file is no error"
assert_contains "$OUT" "migration.transaction_wrapper" "check says what dbkit does with the wrapper"
run lint --dir "$m"
assert_contains "$OUT$ERR" "tx.wrapped" "lint says it runs as one transaction"
assert_not_contains "$OUT" "0000_wrapped.sql: 0000_wrapped.sql" "lint names the file once"
run migrate --dir "$m"
assert_eq 0 "$RC" "a wrapped file applies (drizzle's migrator applies it too)"
assert_eq 2 "$(q "SELECT count(*) FROM pg_class WHERE relname IN ('w_a', 'w_b') AND relkind = 'r'")" "both tables exist"
assert_eq 2 "$(q "SELECT statements FROM dbkit.migrations WHERE tag = '0000_wrapped'")" "the wrapper statements are not run"
# the wrapper is dbkit's transaction: a failure inside leaves nothing
printf 'BEGIN;\nCREATE TABLE "w_c" ("id" integer);\nSELECT 1/0;\nCOMMIT;\n' >"$m/0001_fails.sql"
write_journal "$m" 0000_wrapped 0001_fails
run migrate --dir "$m"
assert_eq 1 "$RC" "a failing wrapped file fails"
assert_contains "$ERR" "0001_fails.sql, statement 3" "the error names the statement (the file's numbering)"
assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'w_c'")" "nothing of the wrapped file stays"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.progress")" "no half-way state: it ran as one transaction"

# --- COMMIT after ALTER TYPE ... ADD VALUE, the value used after it (drizzle #3466's workaround)
case_begin "commit after add value"
fresh_db e2e_tx_enum
m=$WORK/enum
mkdir -p "$m"
printf 'CREATE TYPE "mood" AS ENUM (%s);\n' "'calm'" >"$m/0000_type.sql"
cat >"$m/0001_add_value.sql" <<'SQL'
ALTER TYPE "mood" ADD VALUE 'angry';--> statement-breakpoint
COMMIT;--> statement-breakpoint
CREATE TABLE "feelings" ("m" "mood" DEFAULT 'angry' NOT NULL);--> statement-breakpoint
INSERT INTO "feelings" VALUES ('angry');
SQL
write_journal "$m" 0000_type 0001_add_value
run status --dir "$m"
assert_contains "$OUT" "controls its own transactions" "status says how the pending file will run"
run check --dir "$m" --json
assert_eq 0 "$RC" "check: COMMIT inside is no error"
assert_contains "$OUT" "migration.own_transactions" "check says it runs statement by statement"
run lint --dir "$m" --json
assert_contains "$OUT" "tx.own-transactions" "lint warns what will happen"
assert_not_contains "$OUT" "tx.enum-value-used" "lint knows the value is committed before its use"
run migrate --dir "$m" --dry-run
assert_contains "$OUT$ERR" "controls its own transactions" "the dry run says why it does not rehearse it"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations")" "the dry run applied nothing"
run migrate --dir "$m"
assert_eq 0 "$RC" "the migration applies: $ERR"
assert_eq "angry" "$(q "SELECT m FROM feelings")" "the new value is used in the same file"
assert_eq 2 "$(q "SELECT count(*) FROM dbkit.migrations")" "both recorded"
assert_eq 2 "$(q "SELECT count(*) FROM drizzle.__drizzle_migrations")" "drizzle's table too"
run migrate --dir "$m"
assert_contains "$OUT" "nothing to apply" "a rerun applies nothing"
run drift
assert_eq 0 "$RC" "no drift after it: $OUT"

# --- several blocks: a failure rolls back its own block only, and --resume starts at its BEGIN
case_begin "blocks honoured"
fresh_db e2e_tx_blocks
m=$WORK/blocks
mkdir -p "$m"
cat >"$m/0000_blocks.sql" <<'SQL'
BEGIN;--> statement-breakpoint
CREATE TABLE "b_one" ("id" integer);--> statement-breakpoint
INSERT INTO "b_one" VALUES (1);--> statement-breakpoint
COMMIT;--> statement-breakpoint
BEGIN;--> statement-breakpoint
CREATE TABLE "b_two" ("id" integer);--> statement-breakpoint
INSERT INTO "b_two" SELECT "id" FROM "b_source";--> statement-breakpoint
COMMIT;
SQL
write_journal "$m" 0000_blocks
run migrate --dir "$m"
assert_eq 1 "$RC" "the second block fails"
assert_contains "$ERR" "statement 7" "the error names the failing statement"
assert_contains "$ERR" "rolled back as a whole" "the hint says the block was rolled back"
assert_contains "$ERR" "--resume" "the hint says how to continue"
assert_eq 1 "$(q "SELECT count(*) FROM b_one")" "the first block committed"
assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'b_two'")" "nothing of the failed block stays"
assert_eq 5 "$(q "SELECT next_statement FROM dbkit.progress WHERE tag = '0000_blocks'")" "progress points at the block's BEGIN"
q 'CREATE TABLE "b_source" ("id" integer); INSERT INTO "b_source" VALUES (7)' >/dev/null
run migrate --dir "$m" --resume
assert_eq 0 "$RC" "--resume finishes it: $ERR"
assert_eq 1 "$(q "SELECT count(*) FROM b_one")" "the first block did not run twice"
assert_eq 7 "$(q "SELECT id FROM b_two")" "the second block ran whole"
assert_eq 1 "$(q "SELECT count(*) FROM dbkit.migrations WHERE tag = '0000_blocks'")" "recorded once"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.progress")" "no progress left"

# --- what cannot be honoured is refused, naming the statement; nothing is applied
refused_case() { # name sql-of-the-file statement-number command
	case_begin "refused: $1"
	fresh_db e2e_tx_refused
	local d=$WORK/refused_$RANDOM
	mkdir -p "$d"
	printf '%s' "$2" >"$d/0000_tx.sql"
	write_journal "$d" 0000_tx
	run check --dir "$d"
	assert_eq 5 "$RC" "$1: check fails"
	assert_contains "$OUT$ERR" "migration.transaction_control" "$1: check names the finding"
	assert_contains "$OUT$ERR" "statement $3" "$1: check names the statement"
	assert_not_contains "$OUT$ERR" "migration.no_transaction" "$1: and does not also say it runs statement by statement"
	for mode in all dry; do
		local args=(migrate --dir "$d")
		[[ $mode == dry ]] && args+=(--dry-run)
		run "${args[@]}"
		assert_eq 1 "$RC" "$1 ($mode): refused"
		assert_contains "$ERR" "migration 0000_tx.sql, statement $3 (line $((2 * $3 - 1))): $4" "$1 ($mode): names the statement"
		assert_contains "$ERR" "DK005" "$1 ($mode): SQLSTATE DK005"
	done
	assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations")" "$1: nothing recorded"
	assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'r_t'")" "$1: nothing applied"
}
refused_case rollback $'CREATE TABLE "r_t" ("id" integer);\n--> statement-breakpoint\nROLLBACK;' 2 ROLLBACK
refused_case savepoint $'BEGIN;\n--> statement-breakpoint\nSAVEPOINT a;\n--> statement-breakpoint\nCREATE TABLE "r_t" ("id" integer);\n--> statement-breakpoint\nCOMMIT;' 2 SAVEPOINT
refused_case "begin never committed" $'CREATE TABLE "r_t" ("id" integer);\n--> statement-breakpoint\nBEGIN;' 2 BEGIN
refused_case "concurrently inside a block" $'BEGIN;\n--> statement-breakpoint\nCREATE TABLE "r_t" ("id" integer);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "r_i" ON "r_t" ("id");\n--> statement-breakpoint\nCOMMIT;' 3 "CREATE INDEX CONCURRENTLY"

finish
