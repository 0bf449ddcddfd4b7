#!/usr/bin/env bash
# Issue 13, items 3 and 4: down files computed by the engine (dbkit down TAG --write)
# for each reversible kind, proven by the rehearsal (dbkit migrate --rehearse: up,
# down, up, rolled back, the schema equal at each step), then applied and rolled
# back for real. A wrong down file is caught; what cannot be reversed is listed
# and marked -- dbkit:irreversible, and rollback refuses it.
source "$(dirname "$0")/lib.sh"

F=$WORK/rev
mkdir -p "$F"
cat >"$F/0000_base.sql" <<'SQL'
CREATE TYPE mood AS ENUM ('ok', 'meh');
--> statement-breakpoint
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, bio text, age int, mood mood DEFAULT 'ok');
--> statement-breakpoint
CREATE TABLE posts (id int PRIMARY KEY, user_id int, title varchar(100));
--> statement-breakpoint
CREATE SCHEMA archive;
--> statement-breakpoint
CREATE SEQUENCE counter;
SQL
# one reversible kind per migration
kinds=(
	"table|CREATE TABLE tags (id int PRIMARY KEY, name text NOT NULL UNIQUE);"
	"column|ALTER TABLE users ADD COLUMN nickname varchar(40);"
	"index|CREATE INDEX users_email_idx ON users (lower(email)) WHERE age > 0;"
	"fk|ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;"
	"check|ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0);"
	"enum_value|ALTER TYPE mood ADD VALUE 'great';"
	"view|CREATE VIEW adults AS SELECT id, email FROM users WHERE age >= 18;"
	"function|CREATE FUNCTION add_one(i int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT i + 1';"
	"rename|ALTER TABLE users RENAME COLUMN bio TO about;"
	"default|ALTER TABLE users ALTER COLUMN age SET DEFAULT 18;"
	"not_null|ALTER TABLE posts ALTER COLUMN title SET NOT NULL;"
	"type_cast|ALTER TABLE posts ALTER COLUMN title TYPE varchar(200);"
	"enum_rename|ALTER TYPE mood RENAME VALUE 'meh' TO 'so_so';"
	"table_rename|ALTER TABLE posts RENAME TO articles;"
	"move|ALTER TABLE tags SET SCHEMA archive;"
	"seq_rename|ALTER SEQUENCE counter RENAME TO tally;"
	"extension|CREATE EXTENSION IF NOT EXISTS hstore;"
)
tags=(0000_base)
i=1
for k in "${kinds[@]}"; do
	tag=$(printf '%04d_%s' "$i" "${k%%|*}")
	printf '%s\n' "${k#*|}" >"$F/$tag.sql"
	tags+=("$tag")
	i=$((i + 1))
done
write_journal "$F" "${tags[@]}"

###############################################################################
case_begin down/computed-for-each-kind
fresh_db rev_db
for tag in "${tags[@]:1}"; do
	# no --rename: the migration's own RENAME statements say what to rename back (sweep 8)
	run down "$tag" --dir "$F" --write
	assert_eq 0 "$RC" "dbkit down $tag --write: $ERR"
	assert_not_contains "$(cat "$F/$tag.down.sql")" "dbkit:irreversible" "$tag: nothing irreversible"
done
assert_contains "$(cat "$F/0009_rename.down.sql")" "RENAME COLUMN about TO bio" "the rename is renamed back"
assert_contains "$(cat "$F/0002_column.down.sql")" "DROP COLUMN nickname" "an added column is dropped"
assert_contains "$(cat "$F/0013_enum_rename.down.sql")" "RENAME VALUE 'so_so' TO 'meh'" "an enum value renamed back, not the type made again"
assert_contains "$(cat "$F/0014_table_rename.down.sql")" "ALTER TABLE public.articles RENAME TO posts" "a table renamed back"
assert_contains "$(cat "$F/0015_move.down.sql")" "SET SCHEMA public" "a table moved back"
assert_contains "$(cat "$F/0016_seq_rename.down.sql")" "ALTER SEQUENCE public.tally RENAME TO counter" "a sequence renamed back (its counter kept)"
assert_contains "$(cat "$F/0017_extension.down.sql")" "DROP EXTENSION hstore" "an extension the migration created is dropped"
assert_contains "$(cat "$F/0017_extension.down.sql")" "if the extension was installed before it ran" "and the IF NOT EXISTS is pointed out"
# a column added, the old one dropped and the new one renamed to the old name in one
# migration (gh-next's 0073): the RENAME renames nothing that was there before
G=$WORK/swap
mkdir -p "$G"
printf 'CREATE TABLE acct (id int PRIMARY KEY, name varchar(255));\n' >"$G/0000_t.sql"
printf 'ALTER TABLE "acct" ADD COLUMN "name_c" varchar(255) COLLATE "C";\n--> statement-breakpoint\nALTER TABLE "acct" DROP COLUMN "name";\n--> statement-breakpoint\nALTER TABLE "acct" RENAME COLUMN "name_c" TO "name";\n' >"$G/0001_swap.sql"
write_journal "$G" 0000_t 0001_swap
fresh_db rev_swap
run migrate --dir "$G"
run down 0001_swap --dir "$G"
assert_eq 0 "$RC" "a swapped column's down file is computed, not refused over a rename of nothing: $ERR"
assert_contains "$OUT" "ALTER COLUMN name TYPE character varying(255)" "the column gets its collation back"
assert_not_contains "$OUT" "RENAME COLUMN" "and nothing is renamed"
# a column dropped and an unrelated one added, of the same type: down asks which, and
# takes --drop-and-add (its refusal named the flag, which down rejected: sweep 8)
printf 'ALTER TABLE "acct" DROP COLUMN "name";\n--> statement-breakpoint\nALTER TABLE "acct" ADD COLUMN "nick" varchar(255) COLLATE "C";\n' >"$G/0002_other.sql"
write_journal "$G" 0000_t 0001_swap 0002_other
run migrate --dir "$G"
run down 0002_other --dir "$G"
assert_eq 1 "$RC" "a lost and a gained column the SQL does not relate: asked"
assert_contains "$ERR" "--drop-and-add" "the refusal names --drop-and-add"
run down 0002_other --dir "$G" --drop-and-add
assert_eq 0 "$RC" "down takes --drop-and-add: $ERR"
assert_contains "$OUT" "DROP COLUMN nick" "the added column is dropped"
assert_contains "$OUT" "ADD COLUMN name" "the dropped one made again"
fresh_db rev_db
run down 0009_rename --dir "$F" --rename public.users.about=bio
assert_eq 0 "$RC" "a --rename that says the same is taken: $ERR"
assert_contains "$OUT" "RENAME COLUMN about TO bio" "once"
assert_not_contains "$ERR" "there is no" "and not applied twice"

###############################################################################
case_begin rehearse/up-down-up
B=$WORK/base
mkdir -p "$B"
cp "$F/0000_base.sql" "$B/"
write_journal "$B" 0000_base
run migrate --dir "$B"
assert_eq 0 "$RC" "the base applies: $ERR"
base_schema=$(schema_dump)
run migrate --rehearse --dir "$F"
assert_eq 0 "$RC" "every computed down file passes the rehearsal: $OUT $ERR"
assert_eq "${#kinds[@]}" "$(grep -c '^  ok ' <<<"$OUT")" "one ok per kind"
assert_eq "$base_schema" "$(schema_dump)" "the rehearsal changed nothing"
assert_eq "1" "$("${PSQL[@]}" -c "SELECT count(*) FROM dbkit.migrations")" "and recorded nothing"

###############################################################################
case_begin rollback/applied-then-rolled-back
run migrate --dir "$F"
assert_eq 0 "$RC" "all migrations apply: $ERR"
run rollback --steps "${#kinds[@]}" --dir "$F" --reason "e2e: computed downs"
assert_eq 0 "$RC" "rollback with the computed down files: $ERR"
assert_eq "$base_schema" "$(schema_dump)" "after the rollback the schema is the base again"
run migrate --dir "$F"
assert_eq 0 "$RC" "and up again: $ERR"

###############################################################################
case_begin rehearse/catches-a-wrong-down-file
fresh_db rev_db
run migrate --dir "$B"
printf 'SELECT 1;\n' >"$F/0002_column.down.sql"
run migrate --rehearse --dir "$F"
assert_eq 1 "$RC" "a down file that leaves the column: rehearsal fails"
assert_match "$OUT" "wrong +0002_column +after 0002_column.down.sql the schema is not what it was before 0002_column.sql: column public.users.nickname is left behind" \
	"naming the migration and what is left behind"
assert_match "$OUT" "ok +0003_index" "what follows is still rehearsed, on the schema the up built"

# a down file that leaves its up's GRANT and OWNER TO in place (an attack: it passed
# silently). The schema engine leaves owners and privileges to the environment (a computed
# down file does not REVOKE), so the rehearsal passes, and says what is left.
case_begin rehearse/owners-and-privileges-count
fresh_db rev_grants
q "DROP ROLE IF EXISTS rev_reader; CREATE ROLE rev_reader"
G=$WORK/grants
mkdir -p "$G"
printf 'CREATE TABLE "g" ("id" integer PRIMARY KEY);\n' >"$G/0000_g.sql"
printf 'DROP TABLE "g";\n' >"$G/0000_g.down.sql"
printf 'GRANT SELECT ON "g" TO rev_reader;\n--> statement-breakpoint\nALTER TABLE "g" OWNER TO rev_reader;\n' >"$G/0001_grant.sql"
printf 'SELECT 1;\n' >"$G/0001_grant.down.sql"
write_journal "$G"
write_journal "$G" 0000_g
run migrate --dir "$G"
write_journal "$G" 0000_g 0001_grant
run migrate --rehearse --dir "$G"
assert_eq 0 "$RC" "a down file that leaves the up's grant and owner: the schema is right, so it passes ($OUT)"
assert_contains "$OUT" "owners or privileges 0001_grant.sql changes are left by 0001_grant.down.sql" "but says what it leaves"
assert_contains "$OUT" "rev_reader" "naming the role"
printf 'ALTER TABLE "g" OWNER TO CURRENT_USER;\n--> statement-breakpoint\nREVOKE SELECT ON "g" FROM rev_reader;\n' >"$G/0001_grant.down.sql"
run migrate --rehearse --dir "$G"
assert_eq 0 "$RC" "a down file that gives both back: rehearsal passes ($OUT $ERR)"
assert_not_contains "$OUT" "owners or privileges" "and nothing is said left"
q "DROP OWNED BY rev_reader; DROP ROLE rev_reader"

###############################################################################
# Non-transactional files are rehearsed by their schema effect (CONCURRENTLY removed)
case_begin rehearse/non-transactional
N=$WORK/nontx
mkdir -p "$N"
printf 'CREATE TABLE n (id int PRIMARY KEY, v int);\n' >"$N/0000_n.sql"
printf 'CREATE INDEX CONCURRENTLY n_v ON n (v);\n' >"$N/0001_idx.sql"
printf 'DROP INDEX CONCURRENTLY n_v;\n' >"$N/0001_idx.down.sql"
printf 'ALTER TABLE n ADD COLUMN w int;\n--> statement-breakpoint\nVACUUM n;\n' >"$N/0002_w.sql"
printf 'ALTER TABLE n DROP COLUMN w;\n' >"$N/0002_w.down.sql"
write_journal "$N" 0000_n 0001_idx 0002_w
fresh_db rev_nontx
write_journal "$N" 0000_n
run migrate --dir "$N"
write_journal "$N" 0000_n 0001_idx 0002_w
before=$(schema_dump)
run migrate --rehearse --dir "$N"
assert_eq 0 "$RC" "CONCURRENTLY up and down files are rehearsed: $OUT $ERR"
assert_match "$OUT" "ok +0001_idx +up, down, up: 1 statements, 1 statements, schema equal at each step \(0001_idx.sql and 0001_idx.down.sql rehearsed inside the transaction, without CONCURRENTLY\)" \
	"saying how"
assert_match "$OUT" "ok +0002_w +up, down, up: 1 statements" "VACUUM is left out"
assert_eq "$before" "$(schema_dump)" "nothing stays"
printf 'SELECT 1;\n' >"$N/0001_idx.down.sql"
run migrate --rehearse --dir "$N"
assert_eq 1 "$RC" "a non-transactional down file that leaves the index is caught"
assert_match "$OUT" "wrong +0001_idx .*index public.n_v is left behind" "naming the index"

###############################################################################
case_begin check/rehearse
run check --rehearse --dir "$N"
assert_eq 1 "$RC" "check --rehearse fails on the wrong down file"
assert_match "$OUT" "wrong +0001_idx" "with the rehearsal's finding"
printf 'DROP INDEX CONCURRENTLY n_v;\n' >"$N/0001_idx.down.sql"
run check --rehearse --dir "$N"
assert_eq 0 "$RC" "and passes once it is right: $OUT $ERR"
assert_contains "$OUT" "rehearsal passed" "saying so"
assert_eq "$before" "$(schema_dump)" "nothing was applied"
run check --rehearse --offline --dir "$N"
assert_eq 2 "$RC" "--offline cannot rehearse"
assert_contains "$ERR" "check --rehearse needs a database" "saying so"

###############################################################################
# What could not be rehearsed (a down file marked irreversible or missing) is not counted as
# rehearsed: the summary said "rehearsal passed: up, down, up for 4 pending migrations" when
# only one was. Nothing is wrong, so the exit code stays 0. Its up still runs, so the
# migrations after it are rehearsed (they stopped there before).
case_begin rehearse/counts-what-it-rehearsed
P=$WORK/partial
mkdir -p "$P"
printf '%s\n' 'CREATE TABLE "t" ("id" integer PRIMARY KEY NOT NULL, "a" text);' >"$P/0000_t.sql"
printf '%s\n' 'DROP TABLE "t";' >"$P/0000_t.down.sql"
printf '%s\n' 'ALTER TABLE "t" ADD COLUMN "b" text;--> statement-breakpoint' 'UPDATE "t" SET "b" = "a";' >"$P/0001_b.sql"
printf '%s\n' '-- dbkit:irreversible: the UPDATE cannot be undone' 'ALTER TABLE "t" DROP COLUMN "b";' >"$P/0001_b.down.sql"
for x in 2_c 3_d; do
	printf 'ALTER TABLE "t" ADD COLUMN "%s" text;\n' "${x#*_}" >"$P/000$x.sql"
	printf 'ALTER TABLE "t" DROP COLUMN "%s";\n' "${x#*_}" >"$P/000$x.down.sql"
done
write_journal "$P" 0000_t 0001_b 0002_c 0003_d
fresh_db rev_partial
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$WORK/out"; }
for cmd in migrate check; do
	run $cmd --rehearse --dir "$P"
	assert_eq 0 "$RC" "$cmd --rehearse: nothing wrong found, exit 0: $ERR"
	assert_match "$OUT" "irreversible +0001_b" "$cmd --rehearse: the irreversible row"
	assert_match "$OUT" "ok +0003_d" "$cmd --rehearse: what follows it is rehearsed"
	assert_contains "$OUT" "dbkit: rehearsal passed for 3 of 4 pending migrations: 1 irreversible (see their notes); all rolled back" \
		"$cmd --rehearse: the summary counts what was rehearsed and says what was not"
	assert_not_contains "$OUT" "up, down, up for 4 pending migrations" "$cmd --rehearse: never a full pass"
done
run migrate --rehearse --dir "$P" --json
assert_eq 0 "$RC" "--json: exit 0"
assert_eq "True False 4 3" "$(json 'd["ok"], d["complete"], d["pending"], d["passed"]')" "--json: ok, not complete, 4 pending, 3 passed"
assert_eq "3 1 0 0 0 0" "$(json '" ".join(str(d["results"][k]) for k in ["ok", "irreversible", "not rehearsed", "no down file", "wrong", "failed"])')" \
	"--json: the count of each result"
assert_eq "rehearsal passed for 3 of 4 pending migrations: 1 irreversible (see their notes); all rolled back" \
	"$(json 'd["summary"]')" "--json: the summary"
rm "$P/0000_t.down.sql"
run migrate --rehearse --dir "$P"
assert_eq 0 "$RC" "no down file: exit 0"
assert_contains "$OUT" "dbkit: rehearsal passed for 2 of 4 pending migrations: 1 irreversible, 1 no down file (see their notes)" \
	"no down file for the first: the rest is rehearsed after its up"
printf 'SELECT 1;\n' >"$P/0000_t.down.sql"
run migrate --rehearse --dir "$P"
assert_eq 1 "$RC" "a wrong down file: exit 1"
assert_contains "$OUT" "dbkit: rehearsal FAILED for 4 pending migrations: 2 passed, 1 wrong, 1 irreversible (see their notes)" \
	"a failure counts what passed and what was not rehearsed too"
# an up that fails stops the rehearsal: what follows depends on it
printf 'DROP TABLE "t";\n' >"$P/0000_t.down.sql"
printf 'ALTER TABLE "nope" ADD COLUMN "b" text;\n' >"$P/0001_b.sql"
run migrate --rehearse --dir "$P"
assert_eq 1 "$RC" "an irreversible migration whose up fails: exit 1"
assert_match "$OUT" "failed +0001_b +migration 0001_b.sql, statement 1 \(line 1\): relation \"nope\" does not exist \(SQLSTATE 42P01\) \(running its up; its down file is not rehearsed: 0001_b.down.sql is marked -- dbkit:irreversible\)" \
	"its up is run, and its failure reported"
assert_match "$OUT" "not rehearsed +0003_d +it comes after 0001_b, which failed" "what follows is not rehearsed"
printf '%s\n' 'ALTER TABLE "t" ADD COLUMN "b" text;--> statement-breakpoint' 'UPDATE "t" SET "b" = "a";' >"$P/0001_b.sql"
printf '%s\n' 'DROP TABLE "t";' >"$P/0000_t.down.sql"
rm "$P/0001_b.down.sql"
printf 'ALTER TABLE "t" DROP COLUMN "b";\n' >"$P/0001_b.down.sql"
run migrate --rehearse --dir "$P" --json
assert_eq "True True 4 4" "$(json 'd["ok"], d["complete"], d["pending"], d["passed"]')" "every down file right: complete"
run migrate --rehearse --dir "$P"
assert_contains "$OUT" "dbkit: rehearsal passed: up, down, up for 4 pending migrations, all rolled back" "the full pass, as before"

###############################################################################
case_begin down/irreversible-listed-and-refused
I=$WORK/irr
mkdir -p "$I"
printf 'CREATE TABLE t (id int PRIMARY KEY, legacy text);\n' >"$I/0000_t.sql"
printf 'ALTER TABLE t DROP COLUMN legacy;\n--> statement-breakpoint\nUPDATE t SET id = id + 1;\n' >"$I/0001_drop.sql"
write_journal "$I" 0000_t 0001_drop
fresh_db rev_irr
run migrate --dir "$I"
run down 0001_drop --dir "$I" --write
assert_eq 0 "$RC" "an irreversible migration still gets its structural reverse: $ERR"
D=$(cat "$I/0001_drop.down.sql")
assert_contains "$D" "dbkit:irreversible" "marked for a human"
assert_contains "$D" "drops column public.t.legacy: the rows it held cannot be restored" "the lost data is listed"
assert_contains "$D" "statement 2 (line 3) changes data (UPDATE)" "the data change is listed"
assert_contains "$D" "ADD COLUMN legacy text" "the column comes back, empty"
run rollback --steps 1 --dir "$I" --reason "e2e"
assert_eq 1 "$RC" "rollback refuses the marked file"
assert_contains "$ERR" "irreversible" "saying why"
run down 0001_drop --dir "$I" --write
assert_eq 1 "$RC" "an existing down file is not replaced without --force"

finish
