#!/usr/bin/env bash
# Issue 13 (items 1, 2, 5): down files, dbkit rollback, dbkit migrate --backup.
source "$DBKIT_SRC/tests/e2e/lib.sh"

write_journal() { # dir tag... : a journal-layout meta/_journal.json for the tags given
	local dir=$1
	shift
	mkdir -p "$dir/meta"
	python3 - "$dir/meta/_journal.json" "$@" <<'PY'
import json, sys
entries = [{"idx": i, "version": "7", "when": 1795644700000 + i, "tag": t, "breakpoints": True}
           for i, t in enumerate(sys.argv[2:])]
json.dump({"version": "7", "dialect": "postgresql", "entries": entries}, open(sys.argv[1], "w"), indent=2)
PY
}
history() { q "SELECT coalesce(string_agg(tag, ' ' ORDER BY id), '') FROM dbkit.migrations"; }
drizzle_hashes() { q "SELECT coalesce(string_agg(hash, ' ' ORDER BY created_at), '') FROM drizzle.__drizzle_migrations"; }
file_hashes() { # dir tag...: sha256 of each <tag>.sql, space-separated
	local dir=$1 t out=()
	shift
	for t in "$@"; do out+=("$(sha256sum "$dir/$t.sql" | cut -d' ' -f1)"); done
	echo "${out[*]}"
}

# --- every reversible kind: up, down, up, with the schema equal at each step
case_begin "round trip of each kind"
fresh_db e2e_rb_kinds
m=$WORK/kinds
mkdir -p "$m"
add() { # tag up down
	printf '%s' "$2" >"$m/$1.sql"
	printf '%s' "$3" >"$m/$1.down.sql"
	TAGS+=("$1")
}
TAGS=()
add 0000_base 'CREATE TABLE "users" ("id" serial PRIMARY KEY, "name" text, "age" integer, "score" integer DEFAULT 0, "code" text);' \
	'DROP TABLE "users";'
add 0001_table 'CREATE TABLE "posts" ("id" serial PRIMARY KEY, "user_id" integer);' 'DROP TABLE "posts";'
add 0002_column 'ALTER TABLE "users" ADD COLUMN "email" text;' 'ALTER TABLE "users" DROP COLUMN "email";'
add 0003_index 'CREATE INDEX "posts_user_idx" ON "posts" ("user_id");' 'DROP INDEX "posts_user_idx";'
add 0004_constraints $'ALTER TABLE "posts" ADD CONSTRAINT "posts_user_fk" FOREIGN KEY ("user_id") REFERENCES "users"("id");--> statement-breakpoint\nALTER TABLE "users" ADD CONSTRAINT "users_age_check" CHECK ("age" >= 0);' \
	$'ALTER TABLE "users" DROP CONSTRAINT "users_age_check";--> statement-breakpoint\nALTER TABLE "posts" DROP CONSTRAINT "posts_user_fk";'
add 0005_enum $'CREATE TYPE "mood" AS ENUM (\'happy\', \'sad\');--> statement-breakpoint\nALTER TABLE "users" ADD COLUMN "mood" "mood";' \
	$'ALTER TABLE "users" DROP COLUMN "mood";--> statement-breakpoint\nDROP TYPE "mood";'
add 0006_enum_value $'ALTER TYPE "mood" ADD VALUE \'meh\';' \
	$'-- PostgreSQL cannot drop an enum value: rebuild the type without it\nALTER TYPE "mood" RENAME TO "mood_old";--> statement-breakpoint\nCREATE TYPE "mood" AS ENUM (\'happy\', \'sad\');--> statement-breakpoint\nALTER TABLE "users" ALTER COLUMN "mood" TYPE "mood" USING "mood"::text::"mood";--> statement-breakpoint\nDROP TYPE "mood_old";'
add 0007_view 'CREATE VIEW "named_users" AS SELECT "id", "name" FROM "users" WHERE "name" IS NOT NULL;' 'DROP VIEW "named_users";'
add 0008_function 'CREATE FUNCTION "add_one"(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT $1 + 1 $$;' \
	'DROP FUNCTION "add_one"(integer);'
add 0009_rename $'ALTER TABLE "posts" RENAME COLUMN "user_id" TO "author_id";--> statement-breakpoint\nALTER TABLE "posts" RENAME TO "articles";' \
	$'ALTER TABLE "articles" RENAME TO "posts";--> statement-breakpoint\nALTER TABLE "posts" RENAME COLUMN "author_id" TO "user_id";'
add 0010_default 'ALTER TABLE "users" ALTER COLUMN "score" SET DEFAULT 10;' 'ALTER TABLE "users" ALTER COLUMN "score" SET DEFAULT 0;'
add 0011_not_null 'ALTER TABLE "users" ALTER COLUMN "name" SET NOT NULL;' 'ALTER TABLE "users" ALTER COLUMN "name" DROP NOT NULL;'
add 0012_type_cast 'ALTER TABLE "users" ALTER COLUMN "code" TYPE integer USING "code"::integer;' \
	'ALTER TABLE "users" ALTER COLUMN "code" TYPE text USING "code"::text;'
declare -A BEFORE
for ((i = 0; i < ${#TAGS[@]}; i++)); do
	BEFORE[${TAGS[i]}]=$(schema_dump)
	write_journal "$m" "${TAGS[@]:0:i+1}"
	run migrate --dir "$m"
	[[ $RC == 0 ]] || fail "migrate ${TAGS[i]}: $ERR"
	[[ $i != 0 ]] || q "INSERT INTO users (name, age, code) VALUES ('ann', 30, '42')"
done
FULL=$(schema_dump)
assert_eq 13 "$(q "SELECT count(*) FROM dbkit.migrations WHERE down_hash IS NOT NULL")" "each down file's sha256 is recorded at apply time"
assert_eq "$(sha256sum "$m/0003_index.down.sql" | cut -d' ' -f1)" "$(q "SELECT down_hash FROM dbkit.migrations WHERE tag = '0003_index'")" \
	"the recorded down hash is sha256sum of the file"
for ((i = ${#TAGS[@]} - 1; i >= 1; i--)); do
	t=${TAGS[i]}
	run rollback --dir "$m" --steps 1 --reason "round trip $t"
	assert_eq 0 "$RC" "rollback of $t succeeds${ERR:+: $ERR}"
	assert_eq "${BEFORE[$t]}" "$(schema_dump)" "after rolling back $t the schema equals the one before it was applied"
done
assert_eq "0000_base" "$(history)" "only the first migration is left in the history"
assert_eq "$(file_hashes "$m" 0000_base)" "$(drizzle_hashes)" "drizzle's table holds only the first migration's row: its migrator would re-apply exactly the rolled-back ones"
assert_eq 42 "$(q "SELECT code FROM users")" "the data went through the type change and back"
run drift --dir "$m"
assert_eq 0 "$RC" "no drift after the rollbacks (a new reference was stored)"
run migrate --dir "$m"
assert_eq 0 "$RC" "migrate applies them all again"
assert_eq "$FULL" "$(schema_dump)" "up again: the schema equals the first full apply"
# all of them at once, one transaction
run rollback --dir "$m" --to 0000_base --reason "all at once"
assert_eq 0 "$RC" "rollback --to 0000_base rolls back twelve migrations in one call${ERR:+: $ERR}"
assert_contains "$OUT" "rolled back 12 migrations" "it says how many"
assert_eq "${BEFORE[0001_table]}" "$(schema_dump)" "the schema equals the one before 0001"
n=$(q "SELECT count(*) FROM dbkit.events WHERE action = 'rollback'")
assert_eq 13 "$n" "each rollback call recorded one event"
ev=$(q "SELECT actor || '|' || reason || '|' || jsonb_array_length(detail->'rolled_back') || '|' || (detail->'rolled_back'->0->>'tag') || '|' || (detail->'rolled_back'->0->>'hash') || '|' || (detail->>'now_at') FROM dbkit.events WHERE action = 'rollback' ORDER BY id DESC LIMIT 1")
assert_eq "$(q "SELECT session_user")|all at once|12|0012_type_cast|$(file_hashes "$m" 0012_type_cast)|0000_base" "$ev" "the event records who, why, what (newest first) with hashes, and where the history now ends"
run migrate --dir "$m"
assert_eq "$FULL" "$(schema_dump)" "and up once more"

# --- dry run: what would run, nothing changed
case_begin "dry run"
run rollback --dir "$m" --steps 2 --dry-run --reason "look"
assert_eq 0 "$RC" "dry run succeeds"
assert_contains "$OUT" "would roll back  0012_type_cast" "it lists the newest first"
assert_contains "$OUT" "0011_not_null.down.sql" "it names the down files"
assert_eq 13 "$(q "SELECT count(*) FROM dbkit.migrations")" "the dry run changed nothing"
assert_eq "$FULL" "$(schema_dump)" "the schema is untouched"
run rollback --dir "$m" --steps 2 --dry-run --reason "look" --json
assert_eq 2 "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["migrations"]))')" "--json lists the two"

# --- usage
case_begin "usage"
run rollback --dir "$m" --steps 1
assert_eq 2 "$RC" "--reason is required"
run rollback --dir "$m" --reason x
assert_eq 2 "$RC" "--steps or --to is required"
run rollback --dir "$m" --steps 1 --to 0000_base --reason x
assert_eq 2 "$RC" "not both"
run rollback --dir "$m" --steps 0 --reason x
assert_eq 2 "$RC" "--steps 0 is a usage error"
assert_contains "$ERR" "--steps must be a whole number of migrations, 1 or more (got 0)" "said plainly"
run rollback --dir "$m" --steps 99 --reason x
assert_eq 1 "$RC" "more steps than the history holds is refused"
assert_contains "$ERR" "the history holds 13" "and says how many there are"

# --- refusals: missing and irreversible down files, named each
case_begin "missing and irreversible down files are refused by name"
fresh_db e2e_rb_refuse
m=$WORK/refuse
mkdir -p "$m"
printf 'CREATE TABLE "a" ("id" integer);' >"$m/0000_a.sql"
printf 'DROP TABLE "a";' >"$m/0000_a.down.sql"
printf 'CREATE TABLE "b" ("id" integer);' >"$m/0001_b.sql"
printf 'ALTER TABLE "a" DROP COLUMN "id";' >"$m/0002_c.sql"
printf -- '-- dbkit:irreversible: the dropped column'"'"'s data is gone\nALTER TABLE "a" ADD COLUMN "id" integer;' >"$m/0002_c.down.sql"
printf 'CREATE TABLE "d" ("id" integer);' >"$m/0003_d.sql"
printf 'DROP TABLE "d";' >"$m/0003_d.down.sql"
write_journal "$m" 0000_a 0001_b 0002_c 0003_d
run migrate --dir "$m"
assert_eq 0 "$RC" "the folder applies"
before=$(schema_dump)
run rollback --dir "$m" --steps 3 --reason "too far"
assert_eq 1 "$RC" "rolling back past them is refused"
assert_contains "$ERR" "0001_b has no down file (0001_b.down.sql)" "the missing down file is named"
assert_contains "$ERR" "0002_c is irreversible: 0002_c.down.sql is marked -- dbkit:irreversible" "the irreversible one is named"
assert_contains "$ERR" "DK021" "with dbkit's SQLSTATE"
assert_eq "0000_a 0001_b 0002_c 0003_d" "$(history)" "nothing was rolled back"
assert_eq "$before" "$(schema_dump)" "the schema is untouched, 0003_d's down file did not run"
run rollback --dir "$m" --steps 1 --reason "just d"
assert_eq 0 "$RC" "the one with a down file still rolls back"
assert_eq "0000_a 0001_b 0002_c" "$(history)" "0003_d is gone from the history"
run rollback --dir "$m" --to 0000_a --reason "past c"
assert_eq 1 "$RC" "--to past them is refused too"

# --- baselined and marked-applied migrations stop a rollback
case_begin "rollback past a baselined migration is refused"
fresh_db e2e_rb_baseline
m=$WORK/baseline
mkdir -p "$m"
q 'CREATE TABLE "legacy" ("id" integer)'
printf 'CREATE TABLE "legacy" ("id" integer);' >"$m/0000_legacy.sql"
printf 'DROP TABLE "legacy";' >"$m/0000_legacy.down.sql"
printf 'CREATE TABLE "fresh" ("id" integer);' >"$m/0001_fresh.sql"
printf 'DROP TABLE "fresh";' >"$m/0001_fresh.down.sql"
write_journal "$m" 0000_legacy 0001_fresh
run baseline 0000_legacy --dir "$m"
assert_eq 0 "$RC" "baseline"
run migrate --dir "$m"
assert_eq 0 "$RC" "migrate applies 0001"
run rollback --dir "$m" --steps 2 --reason "all"
assert_eq 1 "$RC" "rolling back the baselined migration is refused"
assert_contains "$ERR" "0000_legacy was baselined" "naming it"
assert_eq 1 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'fresh'")" "and nothing ran"
run rollback --dir "$m" --steps 1 --reason "fresh only"
assert_eq 0 "$RC" "the migration applied after it rolls back"
run rollback --dir "$m" --steps 1 --reason "legacy"
assert_eq 1 "$RC" "the baselined one alone is refused"
assert_eq 1 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'legacy'")" "its table stays"
run mark-applied 0001_fresh --dir "$m" --reason "made by hand"
q 'CREATE TABLE "fresh" ("id" integer)'
run rollback --dir "$m" --steps 1 --reason "marked"
assert_eq 1 "$RC" "a migration marked applied is refused"
assert_contains "$ERR" "0001_fresh was marked applied" "naming it"

# --- an edited down file is a check finding
case_begin "an edited down file is found by check"
fresh_db e2e_rb_edited
m=$WORK/edited
mkdir -p "$m"
printf 'CREATE TABLE "e" ("id" integer);' >"$m/0000_e.sql"
printf 'DROP TABLE "e";' >"$m/0000_e.down.sql"
write_journal "$m" 0000_e
run migrate --dir "$m"
run check --dir "$m"
assert_not_contains "$OUT$ERR" "history.down_modified" "no finding while the down file is as applied"
printf 'DROP TABLE "e" CASCADE;' >"$m/0000_e.down.sql"
run check --dir "$m"
assert_contains "$OUT$ERR" "history.down_modified" "the edit is a finding"
assert_contains "$OUT$ERR" "0000_e.down.sql was edited since 0000_e was applied" "naming the file"
run check --dir "$m" --offline
assert_eq 0 "$RC" "offline, a down file is no migration and no unlisted file"
assert_not_contains "$OUT$ERR" "file_unlisted" "not reported as unlisted"
run rollback --dir "$m" --steps 1 --reason "edited"
assert_eq 0 "$RC" "the edited down file runs"
recorded=$(q "SELECT detail->'rolled_back'->0->>'recorded_down_hash' || ' ' || (detail->'rolled_back'->0->>'down_hash') FROM dbkit.events WHERE action = 'rollback'")
assert_eq "$(q "SELECT encode(sha256('DROP TABLE \"e\";'), 'hex')") $(sha256sum "$m/0000_e.down.sql" | cut -d' ' -f1)" "$recorded" \
	"the event records the down file's hash at apply time and the one that ran"
rm "$m/0000_e.down.sql"
run migrate --dir "$m"
run check --dir "$m"
assert_not_contains "$OUT$ERR" "history.down" "applied without a down file: no down hash, no finding"
printf 'DROP TABLE "e";' >"$m/0000_e.down.sql"
run rollback --dir "$m" --steps 1 --reason "added later"
assert_eq 0 "$RC" "a down file written after the apply is used"

# --- a failing down file: all or nothing
case_begin "a failing down file leaves all or nothing"
fresh_db e2e_rb_fail
m=$WORK/fail
mkdir -p "$m"
printf 'CREATE TABLE "f1" ("id" integer);' >"$m/0000_f1.sql"
printf 'DROP TABLE "f1";\n--> statement-breakpoint\nDROP TABLE "no_such_table";' >"$m/0000_f1.down.sql"
printf 'CREATE TABLE "f2" ("id" integer);' >"$m/0001_f2.sql"
printf 'DROP TABLE "f2";' >"$m/0001_f2.down.sql"
write_journal "$m" 0000_f1 0001_f2
run migrate --dir "$m"
before=$(schema_dump)
dz_before=$(drizzle_hashes)
run rollback --dir "$m" --steps 2 --reason "fails"
assert_eq 1 "$RC" "the rollback fails"
assert_contains "$ERR" "0000_f1.down.sql, statement 2 (line 3)" "the error names the down file, statement and line"
assert_contains "$ERR" "Nothing was rolled back" "and says nothing was rolled back"
assert_eq "$before" "$(schema_dump)" "f2 is still there: one transaction"
assert_eq "0000_f1 0001_f2" "$(history)" "the history is unchanged"
assert_eq "$dz_before" "$(drizzle_hashes)" "drizzle's table is unchanged"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.events WHERE action = 'rollback'")" "no rollback event"
run rollback --dir "$m" --steps 2 --reason "each" --transaction each
assert_eq 1 "$RC" "--transaction each stops at the failing one"
assert_eq "0000_f1" "$(history)" "the newest one's rollback committed on its own"
assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'f2'")" "its table is gone"
assert_eq "$(file_hashes "$m" 0000_f1)" "$(drizzle_hashes)" "drizzle's table follows"
# the hint finishes what was asked: the same --steps 2 would now reach one further back
# (an attack found a re-run, as the old hint said, dropping a table nobody asked to roll back)
assert_not_contains "$ERR" "Nothing was rolled back" "--transaction each: not 'nothing was rolled back' once one was"
assert_contains "$ERR" "the one rolled back before it stays rolled back" "it says what stays rolled back"
assert_contains "$ERR" "run dbkit rollback --steps 1 --reason ... to finish" "and the --steps left"

# --- drift pending on the table a down file changes stays drift (an attack found it
# absorbed: dropping an earlier column moved the hand-made column's position, which was
# taken for a change the run made)
case_begin "a rollback keeps drift pending on the table it changes"
fresh_db e2e_rb_drift
m=$WORK/rbdrift
mkdir -p "$m"
printf 'CREATE TABLE "a" ("id" serial PRIMARY KEY);' >"$m/0000_a.sql"
printf 'ALTER TABLE "a" ADD COLUMN "c" text;' >"$m/0001_c.sql"
printf 'ALTER TABLE "a" DROP COLUMN "c";' >"$m/0001_c.down.sql"
write_journal "$m" 0000_a 0001_c
run migrate --dir "$m"
q 'ALTER TABLE a ADD COLUMN "handcol" int' >/dev/null
run rollback --dir "$m" --steps 1 --reason "undo c"
assert_eq 0 "$RC" "the rollback runs${ERR:+: $ERR}"
assert_contains "$ERR$OUT" "keeps reporting those changes" "warning that the drift is carried"
run drift
assert_eq 4 "$RC" "the hand-made column is still drift"
assert_match "$OUT" "added +column +public.a.handcol" "named"

# --- a backend terminated mid-rollback leaves all or nothing
case_begin "a backend terminated mid-rollback"
fresh_db e2e_rb_kill
m=$WORK/kill
mkdir -p "$m"
printf 'CREATE TABLE "k1" ("id" integer);' >"$m/0000_k1.sql"
printf 'DROP TABLE "k1";\n--> statement-breakpoint\nSELECT pg_sleep(60);' >"$m/0000_k1.down.sql"
printf 'CREATE TABLE "k2" ("id" integer);' >"$m/0001_k2.sql"
printf 'DROP TABLE "k2";' >"$m/0001_k2.down.sql"
write_journal "$m" 0000_k1 0001_k2
run migrate --dir "$m"
"$DBKIT" rollback --dir "$m" --steps 2 --reason "killed" >"$WORK/kill.out" 2>&1 &
kpid=$!
pid=$(wait_until 30 "SELECT pid FROM pg_stat_activity WHERE datname = 'e2e_rb_kill' AND query LIKE '%dbkit_rollback%' AND wait_event = 'PgSleep'")
q "SELECT pg_terminate_backend($pid)" >/dev/null
set +e
wait $kpid
krc=$?
set -e
assert_eq 1 "$krc" "the client reports the failure"
assert_eq "0000_k1 0001_k2" "$(history)" "the history is unchanged"
assert_eq 2 "$(q "SELECT count(*) FROM pg_class WHERE relname IN ('k1', 'k2')")" "both tables are there"

# --- rollback takes the deploy lock as migrate does
case_begin "rollback waits for the deploy lock"
hold_deploy_lock
run rollback --dir "$m" --steps 1 --reason "locked" --wait 0
assert_eq 1 "$RC" "with --wait 0 a rollback fails while another deploy holds the lock"
assert_contains "$ERR" "deploy lock" "saying so"
run_until_lock_free rollback --dir "$m" --steps 1 --reason "after the lock" --wait 60s
assert_eq 1 "$WAITED" "with --wait it waits for the lock"
assert_eq 0 "$RC" "and runs once the lock is free: $ERR"
assert_eq "0000_k1" "$(history)" "0001_k2 rolled back"

# --- drizzle-kit 1.0's layout: <folder>/down.sql
case_begin "folders layout"
fresh_db e2e_rb_v1
m=$WORK/v1
mkdir -p "$m/20261125221325_users" "$m/20261125221400_posts"
printf 'CREATE TABLE "users" ("id" integer);' >"$m/20261125221325_users/migration.sql"
printf 'CREATE TABLE "posts" ("id" integer);' >"$m/20261125221400_posts/migration.sql"
printf 'DROP TABLE "posts";' >"$m/20261125221400_posts/down.sql"
run migrate --dir "$m"
assert_eq 0 "$RC" "applies"
run rollback --dir "$m" --steps 1 --reason "v1"
assert_eq 0 "$RC" "rolls back with down.sql${ERR:+: $ERR}"
assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'posts'")" "posts is gone"
run rollback --dir "$m" --steps 1 --reason "v1 users"
assert_contains "$ERR" "has no down file (20261125221325_users/down.sql)" "a missing down.sql is named"

# --- non-transactional down files run statement by statement (issue 13 item 2)
case_begin "a down file that needs CONCURRENTLY runs outside a transaction"
fresh_db e2e_rb_nontx
m=$WORK/nontx
mkdir -p "$m"
printf 'CREATE TABLE "n" ("id" integer, "v" integer);' >"$m/0000_n.sql"
printf 'DROP TABLE "n";' >"$m/0000_n.down.sql"
printf 'CREATE INDEX CONCURRENTLY "n_id" ON "n" ("id");' >"$m/0001_idx.sql"
printf 'DROP INDEX CONCURRENTLY "n_id";' >"$m/0001_idx.down.sql"
printf 'ALTER TABLE "n" ADD COLUMN "w" integer;' >"$m/0002_w.sql"
printf 'ALTER TABLE "n" DROP COLUMN "w";' >"$m/0002_w.down.sql"
printf 'CREATE INDEX CONCURRENTLY "n_v" ON "n" ("v");\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "n_w" ON "n" ("w");' >"$m/0003_idx2.sql"
printf 'DROP INDEX CONCURRENTLY "n_w";\n--> statement-breakpoint\nDROP INDEX CONCURRENTLY "n_v";' >"$m/0003_idx2.down.sql"
write_journal "$m" 0000_n 0001_idx 0002_w 0003_idx2
declare -A NB
for t in 0000_n 0001_idx 0002_w 0003_idx2; do
	NB[$t]=$(schema_dump)
	write_journal "$m" $(ls "$m" | sed -n 's/^\(.*\)\.down\.sql$/\1/p' | sort | sed "/^${t}\$/q")
	run migrate --dir "$m"
	assert_eq 0 "$RC" "applies $t${ERR:+: $ERR}"
done
q "INSERT INTO n SELECT g, g FROM generate_series(1, 1000) g" >/dev/null
NFULL=$(schema_dump)
run rollback --dir "$m" --steps 3 --reason "cic" --dry-run
assert_eq 0 "$RC" "the dry run works"
assert_contains "$OUT" "0003_idx2.down.sql (2 statements, outside a transaction, one by one)" "and says which down files run outside a transaction"
run rollback --dir "$m" --steps 1 --reason "cic"
assert_eq 0 "$RC" "a down file with DROP INDEX CONCURRENTLY rolls back${ERR:+: $ERR}"
assert_contains "$OUT" "outside a transaction" "saying how it ran"
assert_eq "${NB[0003_idx2]}" "$(schema_dump)" "the schema is the one before 0003_idx2"
assert_eq "0000_n 0001_idx 0002_w" "$(history)" "its history row is gone"
assert_eq "$(file_hashes "$m" 0000_n 0001_idx 0002_w)" "$(drizzle_hashes)" "drizzle's row too"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.progress")" "no progress row is left"
assert_eq "cic" "$(q "SELECT reason FROM dbkit.events WHERE action = 'rollback' ORDER BY id DESC LIMIT 1")" "the rollback event has the reason"
assert_eq "true" "$(q "SELECT detail -> 'rolled_back' -> 0 ->> 'non_transactional' FROM dbkit.events WHERE action = 'rollback' ORDER BY id DESC LIMIT 1")" "and says it ran outside a transaction"
run drift --dir "$m"
assert_eq 0 "$RC" "no drift: the reference followed${ERR:+: $ERR}"
run migrate --dir "$m"
assert_eq 0 "$RC" "migrate applies it again"
assert_eq "$NFULL" "$(schema_dump)" "up, down, up: the schema is the one the first up built"
# a mix: transactional ones in one transaction, the CONCURRENTLY ones on their own, newest first
run rollback --dir "$m" --to 0000_n --reason "mixed"
assert_eq 0 "$RC" "a mixed rollback works${ERR:+: $ERR}"
assert_eq "${NB[0001_idx]}" "$(schema_dump)" "the schema is the one before 0001_idx"
assert_eq "0000_n" "$(history)" "three migrations rolled back"
assert_eq 1000 "$(q "SELECT count(*) FROM n")" "the rows are untouched"
run migrate --dir "$m"
run rollback --dir "$m" --to 0000_n --reason "each" --transaction each
assert_eq 0 "$RC" "--transaction each too${ERR:+: $ERR}"
assert_eq "0000_n" "$(history)" "three migrations rolled back"

case_begin "a non-transactional down file that fails is resumed"
run migrate --dir "$m"
cp "$m/0003_idx2.down.sql" "$WORK/idx2.down.sql"
printf 'DROP INDEX CONCURRENTLY "n_w";\n--> statement-breakpoint\nDROP INDEX CONCURRENTLY "n_vv";' >"$m/0003_idx2.down.sql"
run rollback --dir "$m" --steps 1 --reason "typo"
assert_eq 1 "$RC" "a failing statement stops the rollback"
assert_contains "$ERR" "rollback of 0003_idx2, statement 2 (line 3)" "naming the migration, statement and line"
assert_contains "$ERR" "dbkit rollback --resume --steps 1 --reason ..." "and how to continue, with the --steps left"
assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'n_w'")" "the statement before it stays done (outside a transaction)"
assert_eq "0000_n 0001_idx 0002_w 0003_idx2" "$(history)" "the migration is still recorded as applied"
assert_eq "down failed 2" "$(q "SELECT direction || ' ' || status || ' ' || next_statement FROM dbkit.progress")" "the stopping point is recorded"
# status gives the rollback's next step (it said migrate --resume or mark-applied, both refused; an attack)
run status
assert_contains "$OUT" "stopped: the rollback (non-transactional down file) of 0003_idx2 failed at statement 2 of 2" "status says the rollback stopped"
assert_contains "$OUT" "(dbkit rollback --resume, or dbkit forget)" "status: and what goes on with it"
run status --dir "$m"
assert_contains "$OUT" "rollback (non-transactional down file) failed at statement 2 of 2" "status --dir says so too"
assert_contains "$OUT" "dbkit rollback --resume, or dbkit forget" "status --dir: and what goes on with it"
run migrate --dir "$m"
assert_eq 1 "$RC" "migrate refuses while the rollback is half-done"
assert_contains "$ERR" "the rollback of migration 0003_idx2 (non-transactional down file) stopped at statement 2 of 2" "saying so"
run rollback --dir "$m" --steps 1 --reason "again"
assert_eq 1 "$RC" "a rollback without --resume is refused too"
# the statement that ran, taken out of the down file: --resume would record the rollback
# with the rest never run (an attack); refused, naming it
printf 'DROP INDEX CONCURRENTLY "n_vv";' >"$m/0003_idx2.down.sql"
run rollback --dir "$m" --steps 1 --reason "edited" --resume
assert_eq 1 "$RC" "--resume refuses a down file whose statements that ran changed"
assert_contains "$ERR" "statement 1 of 0003_idx2.down.sql is not the one that ran" "naming the statement"
assert_contains "$ERR" "dbkit rollback --resume" "and how to go on"
cp "$WORK/idx2.down.sql" "$m/0003_idx2.down.sql"
run rollback --dir "$m" --steps 1 --reason "resumed" --resume
assert_eq 0 "$RC" "--resume continues from statement 2${ERR:+: $ERR}"
assert_contains "$OUT" "(1 statement, outside a transaction)" "--resume counts the statement it ran, not the file's 2"
assert_eq "${NB[0003_idx2]}" "$(schema_dump)" "the schema is the one before 0003_idx2"
assert_eq "0000_n 0001_idx 0002_w" "$(history)" "and the history follows"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.progress")" "no progress row is left"

case_begin "--resume never reaches further back than the run it continues"
# --steps 2: 0004_z rolls back and commits, then 0003_idx2's down file stops. Typed
# again with --resume, --steps 2 would count from 0003_idx2 and also drop column w.
printf 'CREATE TABLE "z" ("id" integer);' >"$m/0004_z.sql"
printf 'DROP TABLE "z";' >"$m/0004_z.down.sql"
write_journal "$m" 0000_n 0001_idx 0002_w 0003_idx2 0004_z
run migrate --dir "$m"
assert_eq 0 "$RC" "applies 0003_idx2 and 0004_z${ERR:+: $ERR}"
printf 'DROP INDEX CONCURRENTLY "n_w";\n--> statement-breakpoint\nDROP INDEX CONCURRENTLY "n_vv";' >"$m/0003_idx2.down.sql"
run rollback --dir "$m" --steps 2 --reason "two"
assert_eq 1 "$RC" "the second migration's down file stops"
assert_eq "0000_n 0001_idx 0002_w 0003_idx2" "$(history)" "0004_z stays rolled back"
assert_eq 0003_idx2 "$(q "SELECT rollback_through FROM dbkit.progress")" "the run's oldest migration is recorded"
run migrate --dir "$m"
assert_eq 1 "$RC" "migrate is refused meanwhile"
assert_contains "$ERR" "dbkit rollback --resume --steps 1 --reason TEXT\` (or --to 0002_w)" "its hint gives the run's own bound"
cp "$WORK/idx2.down.sql" "$m/0003_idx2.down.sql"
run rollback --dir "$m" --steps 2 --reason "two, resumed" --resume
assert_eq 1 "$RC" "the first run's --steps 2 with --resume is refused"
assert_contains "$ERR" "--resume would roll back 2 migrations, through 0002_w: the rollback it continues has 1 left to roll back, through 0003_idx2" "saying why"
assert_contains "$ERR" "dbkit rollback --resume --steps 1 --reason TEXT (or --to 0002_w)" "and what finishes it"
assert_eq 1 "$(q "SELECT count(*) FROM pg_attribute WHERE attrelid = 'n'::regclass AND attname = 'w'")" "column w is untouched"
assert_eq "0000_n 0001_idx 0002_w 0003_idx2" "$(history)" "nothing was rolled back"
run rollback --dir "$m" --to 0002_w --reason "two, resumed" --resume
assert_eq 0 "$RC" "--to the migration that stays finishes it${ERR:+: $ERR}"
assert_eq "0000_n 0001_idx 0002_w" "$(history)" "and only it"
write_journal "$m" 0000_n 0001_idx 0002_w 0003_idx2
rm "$m/0004_z.sql" "$m/0004_z.down.sql"

# --- migrate --backup
case_begin "migrate --backup"
fresh_db e2e_backup
m=$WORK/backup
mkdir -p "$m"
printf 'CREATE TABLE "b1" ("id" serial PRIMARY KEY, "v" text);' >"$m/0000_b1.sql"
printf 'CREATE TABLE "b2" ("id" integer);' >"$m/0001_b2.sql"
write_journal "$m" 0000_b1
run migrate --dir "$m"
q "INSERT INTO b1 (v) VALUES ('kept')"
before=$(schema_dump)
write_journal "$m" 0000_b1 0001_b2
bk=$WORK/dumps
run migrate --dir "$m" --backup "$bk"
assert_eq 0 "$RC" "migrate --backup succeeds${ERR:+: $ERR}"
dump=$(ls "$bk"/e2e_backup-*-0000_b1.dump)
assert_match "$dump" "e2e_backup-[0-9]{8}T[0-9]{6}Z-0000_b1\.dump$" "the dump is named <db>-<UTC timestamp>-<last applied tag>.dump"
assert_contains "$OUT" "pg_restore" "the restore command is printed"
detail=$(q "SELECT (detail->'backup'->>'file') || ' ' || (detail->'backup'->>'bytes') FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")
assert_eq "$dump $(stat -c %s "$dump")" "$detail" "the run's event records the file and its size"
cmd=$(printf '%s\n' "$OUT" | grep -A1 "restores with:" | tail -1 | sed 's/^ *//')
"${PSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS e2e_backup_restored'
bash -c "$cmd"
assert_eq "$before" "$(PGDATABASE=e2e_backup_restored schema_dump)" "the printed command restores the schema as it was before the run"
assert_eq kept "$(PGDATABASE=e2e_backup_restored q "SELECT v FROM b1")" "and the data"
assert_eq 1 "$(PGDATABASE=e2e_backup_restored q "SELECT count(*) FROM dbkit.migrations")" "and dbkit's history as it was"
"${PSQL[@]}" -d postgres -c 'DROP DATABASE e2e_backup_restored'
run migrate --dir "$m" --backup "$bk"
assert_eq 0 "$RC" "nothing pending"
assert_eq 1 "$(ls "$bk" | wc -l)" "nothing pending: no dump taken"
assert_contains "$OUT" "no dump taken" "and it says so"

case_begin "a failing pg_dump stops the migrate"
printf 'CREATE TABLE "b3" ("id" integer);' >"$m/0002_b3.sql"
write_journal "$m" 0000_b1 0001_b2 0002_b3
fake=$WORK/fakebin
mkdir -p "$fake"
printf '#!/bin/sh\necho "pg_dump: error: fake failure for the test" >&2\nexit 1\n' >"$fake/pg_dump"
chmod +x "$fake/pg_dump"
set +e
PATH="$fake:$PATH" "$DBKIT" migrate --dir "$m" --backup "$WORK/dumps2" >"$WORK/out" 2>"$WORK/err"
RC=$?
set -e
ERR=$(cat "$WORK/err")
assert_eq 1 "$RC" "migrate fails"
assert_contains "$ERR" "pg_dump exited with status 1 writing $WORK/dumps2/e2e_backup-" "naming pg_dump's status and the file"
assert_contains "$ERR" "fake failure for the test" "with pg_dump's stderr"
assert_eq "0000_b1 0001_b2" "$(history)" "nothing was applied"
assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'b3'")" "b3 was not created"
assert_eq 0 "$(ls "$WORK/dumps2" | wc -l)" "no partial dump is left"

finish
