#!/usr/bin/env bash
# Issue 10: the schema engine from the client. dbkit push (plan first, one
# transaction, data loss refused with row counts, a failing step changes nothing,
# the deploy lock), dbkit generate (files in drizzle's layout, --check), the shadow
# (killed mid-evaluation leaves nothing; live readers and writers are not blocked),
# drift --dir against the code (one out-of-band change is one difference), and bad
# input (syntax error with its line, unknown type, unresolvable rename, dropping dbkit).
source "$(dirname "$0")/lib.sh"

###############################################################################
case_begin push/plan-data-loss-and-one-transaction
fresh_db eng_push
q "CREATE TABLE users (id int PRIMARY KEY, bio text, age int); INSERT INTO users VALUES (1, 'a', NULL), (2, 'b', 7)"
S=$WORK/schema.sql
cat >"$S" <<'SQL'
CREATE TABLE users (id int PRIMARY KEY, about text, age bigint);
CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users (id) ON DELETE CASCADE, title text NOT NULL);
CREATE INDEX posts_user_idx ON posts (user_id);
SQL
run push --schema "$S"
assert_eq 1 "$RC" "a drop+add pair without a hint is refused: $OUT"
assert_contains "$ERR" "--rename public.users.bio=about" "the refusal gives the flag that resolves it"
assert_eq "bio" "$("${PSQL[@]}" -c "SELECT string_agg(attname, ',') FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname IN ('bio', 'about')")" "nothing changed"
run push --schema "$S" --rename public.users.bio=about --dry-run
assert_eq 0 "$RC" "--dry-run exits 0: $ERR"
assert_match "$OUT" "ALTER TABLE public.users RENAME COLUMN bio TO about" "the plan renames the column"
assert_contains "$OUT" "dry run, nothing was changed" "and says nothing changed"
assert_eq "" "$("${PSQL[@]}" -c "SELECT to_regclass('posts')")" "dry run: no table created"
run push --schema "$S" --rename public.users.bio=about --reason "e2e"
assert_eq 0 "$RC" "push applies: $ERR"
assert_contains "$OUT" "applied 6 statements in one transaction" "it says how many, in one transaction"
assert_eq "about|bigint|2" "$("${PSQL[@]}" -c "SELECT (SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass AND attnum = 2) || '|' || format_type(atttypid, atttypmod) || '|' || (SELECT count(*) FROM users) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'age'")" \
	"renamed, retyped, rows kept"
assert_eq "push|e2e|6" "$("${PSQL[@]}" -c "SELECT action || '|' || reason || '|' || (detail ->> 'statements') FROM dbkit.events ORDER BY id DESC LIMIT 1")" "a push event with the reason and the plan's size"
run push --schema "$S"
assert_contains "$OUT" "the database already matches" "pushing again: nothing to do"
# data loss: named, with its rows, and refused without the flag
cat >"$S" <<'SQL'
CREATE TABLE users (id int PRIMARY KEY, age bigint);
SQL
run push --schema "$S"
assert_eq 1 "$RC" "dropping a column and a table that hold data is refused"
assert_contains "$ERR" "drops column public.users.about (2 rows in public.users)" "the column, with its table's rows"
assert_match "$ERR" "drops table public.posts \\(0 rows in public.posts\\)" "the table, with its rows"
assert_contains "$ERR" "--accept-data-loss" "the flag is named"
run push --schema "$S" --accept-data-loss
assert_eq 0 "$RC" "with --accept-data-loss it applies: $ERR"
assert_eq "" "$("${PSQL[@]}" -c "SELECT to_regclass('posts')")" "posts is gone"
# a narrowing type change: the refusal names the data loss, not the statement's first
# hazard (it said "rewrites table public.m" once per column: attack 7)
"${PSQL[@]}" -c "CREATE TABLE m (amount numeric(10,2), f double precision)" -c "INSERT INTO m VALUES (1.25, 0.5)" >/dev/null
printf 'CREATE TABLE users (id int PRIMARY KEY, age bigint);\nCREATE TABLE m (amount numeric(10,0), f real);\n' >"$S"
run push --schema "$S"
assert_eq 1 "$RC" "narrowing two columns holding data is refused"
assert_contains "$ERR" "data loss: numeric(10,2) -> numeric(10,0) can fail or change values of public.m.amount (1 row in public.m)" \
	"the refusal names the column and what it loses"
assert_contains "$ERR" "public.m.f (1 row" "and the other column"
assert_not_contains "$ERR" "rewrites table public.m (" "not the rewrite in place of the loss"
"${PSQL[@]}" -c "DROP TABLE m" >/dev/null
# a sequence's counter is data (attack 7): a standalone sequence renamed in the file is a
# rename question, --rename keeps its value, and leaving it out is refused as data loss
"${PSQL[@]}" -c "CREATE SEQUENCE ticket_no" -c "SELECT setval('ticket_no', 5000)" >/dev/null
printf 'CREATE TABLE users (id int PRIMARY KEY, age bigint);\nCREATE SEQUENCE ticket_number;\n' >"$S"
run push --schema "$S"
assert_eq 1 "$RC" "a sequence lost and one gained: asked, not dropped and created"
assert_contains "$ERR" "--rename public.ticket_no=ticket_number" "the refusal gives the --rename that keeps the counter"
run push --schema "$S" --rename public.ticket_no=ticket_number
assert_eq 0 "$RC" "--rename of a sequence: $ERR"
assert_eq 5001 "$(q "SELECT nextval('ticket_number')")" "renamed: it counts on from 5000"
printf 'CREATE TABLE users (id int PRIMARY KEY, age bigint);\n' >"$S"
run push --schema "$S"
assert_eq 1 "$RC" "a sequence left out of the file: refused without --accept-data-loss"
assert_contains "$ERR" "data loss: drops sequence public.ticket_number" "the refusal names the sequence"
run push --schema "$S" --accept-data-loss
assert_eq 0 "$RC" "with the flag it is dropped: $ERR"
# a failing step k rolls back steps 1..k-1: the new table, then NOT NULL on a column holding NULLs
cat >"$S" <<'SQL'
CREATE TABLE users (id int PRIMARY KEY, age bigint NOT NULL);
CREATE TABLE audit (id int PRIMARY KEY);
SQL
run push --schema "$S"
assert_eq 1 "$RC" "SET NOT NULL over a NULL fails the push"
assert_match "$ERR" "dbkit push, step [0-9]+ of [0-9]+ \\(column:public.users.age\\)" "the error names the step and its object"
assert_contains "$ERR" "Nothing was changed" "and says nothing was changed"
assert_eq "|true" "$("${PSQL[@]}" -c "SELECT coalesce(to_regclass('audit')::text, '') || '|' || NOT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'age'")" \
	"the table created by an earlier step is not there, the column is as it was"

###############################################################################
# On a terminal the undecided rename is asked (script(1) gives the client one);
# without a terminal, or under CI, the refusal stands (the case above).
case_begin push/rename-asked-on-a-terminal
fresh_db eng_ask
q "CREATE TABLE users (id int PRIMARY KEY, bio text); INSERT INTO users VALUES (1, 'kept')"
S=$WORK/ask.sql
echo "CREATE TABLE users (id int PRIMARY KEY, about text);" >"$S"
tty_run() { # answers, dbkit arguments...: stdout+stderr of the client on a pseudo-terminal
	local answers=$1 cmd
	shift
	printf -v cmd '%q ' "$DBKIT" "$@"
	printf '%s' "$answers" | env -u CI script -qec "$cmd" /dev/null 2>&1 | tr -d '\r' || true
}
out=$(tty_run $'y\n' push --schema "$S" --reason e2e-ask)
assert_contains "$out" "Is public.users.bio renamed to about?" "the rename is asked"
assert_contains "$out" "next time: --rename public.users.bio=about" "with the flag that says it next time"
assert_contains "$out" "ALTER TABLE public.users RENAME COLUMN bio TO about" "the plan renames"
assert_eq "kept" "$(q "SELECT about FROM users")" "the column was renamed, its rows kept"
q "ALTER TABLE users RENAME COLUMN about TO bio"
out=$(tty_run $'n\n' push --schema "$S" --dry-run)
assert_contains "$out" "next time: --drop-and-add" "no: drop and add"
assert_contains "$out" "DROP COLUMN bio" "the plan drops the old column"
out=$(tty_run $'q\n' push --schema "$S" --dry-run)
assert_contains "$out" "decision needed" "quit: the refusal stands"
F=$WORK/ask_folder
mkdir -p "$F"
echo "CREATE TABLE users (id int PRIMARY KEY, bio text);" >"$F/0000_init.sql"
write_journal "$F" 0000_init
out=$(tty_run $'y\n' generate rename_bio --dir "$F" --schema "$S")
assert_contains "$out" "Is public.users.bio renamed to about?" "generate asks too"
assert_contains "$(cat "$F"/0001_rename_bio.sql 2>/dev/null)" "RENAME COLUMN bio TO about" "and writes the rename"

###############################################################################
# A schema file with no COMMENT statement (drizzle-kit export writes none) says
# nothing about comments: the ones a migration or a DBA made are kept, not dropped
# by push or generate, nor reported by drift --schema. One COMMENT in the file and
# the file's comments are the schema's.
case_begin schema-file/comments-only-when-declared
fresh_db eng_comments
F=$WORK/comments_folder
mkdir -p "$F"
printf '%s\n' "CREATE TABLE notes (id int PRIMARY KEY, body text);" "COMMENT ON TABLE notes IS 'hand-written';" \
	"CREATE VIEW bodies AS SELECT id, body FROM notes;" "COMMENT ON COLUMN bodies.body IS 'as written';" >"$F/0000_init.sql"
write_journal "$F" 0000_init
run migrate --dir "$F"
assert_eq 0 "$RC" "migrate: $ERR"
S=$WORK/export.sql
printf '%s\n' "CREATE TABLE \"notes\" (\"id\" integer PRIMARY KEY NOT NULL, \"body\" text);" \
	"CREATE VIEW \"bodies\" AS SELECT \"id\", \"body\" FROM \"notes\";" >"$S"
run push --schema "$S" --dry-run
assert_contains "$OUT" "already matches" "push of an export without comments: nothing to do"
run generate next --dir "$F" --schema "$S" --check
assert_eq 0 "$RC" "generate --check: the folder is not behind ($OUT)"
run drift --schema "$S"
assert_eq 0 "$RC" "drift --schema: no difference ($OUT)"
echo "COMMENT ON COLUMN notes.body IS 'markdown';" >>"$S"
run push --schema "$S" --dry-run
assert_contains "$OUT" "COMMENT ON TABLE public.notes IS NULL" "a file that declares comments: the table's is dropped"
assert_contains "$OUT" "COMMENT ON COLUMN public.notes.body IS 'markdown'" "and the column's is set"
assert_contains "$OUT" "COMMENT ON COLUMN public.bodies.body IS NULL" "and the view column's is dropped"

###############################################################################
case_begin push/deploy-lock
fresh_db eng_lock
printf 'CREATE TABLE t (id int);\n' >"$S"
hold_deploy_lock
run push --schema "$S" --wait 0
assert_eq 1 "$RC" "another session holds the deploy lock: --wait 0 fails at once"
assert_contains "$ERR" "deploy lock" "it names the deploy lock"
assert_eq "" "$("${PSQL[@]}" -c "SELECT to_regclass('t')")" "nothing applied"
run_until_lock_free push --schema "$S" --wait 60s
assert_eq 1 "$WAITED" "with --wait the push waits for the holder"
assert_eq 0 "$RC" "then applies once the holder is gone: $ERR"

###############################################################################
case_begin shadow/killed-leaves-nothing-and-blocks-no-reader
fresh_db eng_kill
q "CREATE TABLE live (id int); INSERT INTO live VALUES (1)"
before=$("${PSQL[@]}" -c "SELECT (SELECT count(*) FROM pg_namespace) || '|' || (SELECT count(*) FROM pg_class) || '|' || (SELECT count(*) FROM pg_roles) || '|' || (SELECT count(*) FROM pg_database)")
"${PSQL[@]}" -c "SET application_name = 'dbkit_e2e_shadow'" -c "SELECT dbkit_schema_from_sql('CREATE TABLE a (id int); CREATE TABLE b (id int); SELECT pg_sleep(60);')" >/dev/null 2>&1 &
SHADOW=$!
pid=$(wait_until 10 "SELECT pid FROM pg_stat_activity WHERE application_name = 'dbkit_e2e_shadow' AND query LIKE '%pg_sleep(60)%' AND wait_event = 'PgSleep'")
assert_match "$pid" "^[0-9]+$" "the shadow is running (pid $pid)"
# what it holds: locks on schemas (namespaces) and its own new tables, never a live table
assert_eq "0" "$("${PSQL[@]}" -c "SELECT count(*) FROM pg_locks WHERE pid = $pid AND locktype = 'relation' AND relation = 'live'::regclass")" "no lock on a live table"
assert_match "$("${PSQL[@]}" -c "SELECT count(*) FROM pg_locks WHERE pid = $pid AND locktype = 'object' AND classid = 'pg_namespace'::regclass AND mode = 'AccessExclusiveLock'")" "^[1-9]" "the renamed schema is locked as an object"
# live readers and writers go on while it runs
assert_eq "2" "$("${PSQL[@]}" -c "SET lock_timeout = '1s'" -c "INSERT INTO live VALUES (2)" -c "SELECT count(*) FROM live")" "a live INSERT and SELECT are not blocked"
assert_eq "live" "$("${PSQL[@]}" -c "SET lock_timeout = '1s'" -c "SELECT string_agg(relname, ',') FROM pg_class WHERE relname IN ('live', 'a', 'b') AND relkind = 'r'")" "others see only the live table"
"${PSQL[@]}" -c "SELECT pg_terminate_backend($pid)" >/dev/null
wait "$SHADOW" || true
assert_eq "$before" "$("${PSQL[@]}" -c "SELECT (SELECT count(*) FROM pg_namespace) || '|' || (SELECT count(*) FROM pg_class) || '|' || (SELECT count(*) FROM pg_roles) || '|' || (SELECT count(*) FROM pg_database)")" \
	"killed mid-evaluation: pg_namespace, pg_class, pg_roles and pg_database as before"
assert_eq "0|public" "$("${PSQL[@]}" -c "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'dbkit_shadow%') || '|' || (SELECT relnamespace::regnamespace FROM pg_class WHERE relname = 'live')")" \
	"no shadow schema, the live table still in public"

###############################################################################
# The stand-in for information_schema (a DO block that names it) renames it aside: a
# session holding a lock on it makes the shadow wait lock_timeout, then fail as a lock
# on a live schema does, never carry on as if information_schema could not be stood in for.
case_begin shadow/information-schema-lock-wait-fails
fresh_db eng_is_lock
hold_session e2e_is_holder "BEGIN" "COMMENT ON SCHEMA information_schema IS NULL" >/dev/null || true
held=$(q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'object' AND l.classid = 'pg_namespace'::regclass AND l.objid = 'information_schema'::regnamespace AND a.application_name = 'e2e_is_holder'")
assert_eq 1 "$held" "another session holds a lock on information_schema"
OUT=$("${PSQL[@]}" -c "SELECT dbkit_schema_from_sql('DO \$b\$ BEGIN PERFORM 1 FROM information_schema.tables LIMIT 1; END \$b\$;', '{\"lock_timeout\": 500}')" 2>&1 || true)
assert_contains "$OUT" "Another session holds a lock on a schema the shadow renames" "the lock wait fails the shadow with the lock hint: $OUT"
assert_not_contains "$OUT" "could not stand in" "not taken for a refusal"
end_session e2e_is_holder

###############################################################################
case_begin generate/files-check-and-bad-input
fresh_db eng_gen
F=$WORK/gen
mkdir -p "$F"
printf 'CREATE TABLE "users" ("id" serial PRIMARY KEY, "email" text NOT NULL);\n' >"$F/0000_init.sql"
write_journal "$F" 0000_init
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: $ERR"
cat >"$S" <<'SQL'
CREATE TYPE mood AS ENUM ('ok', 'meh');
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, mood mood DEFAULT 'ok');
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
SQL
run generate add_mood --dir "$F" --schema "$S" --check
assert_eq 4 "$RC" "--check: the folder is behind the schema: exit 4"
assert_eq "0000_init.sql" "$(cd "$F" && ls *.sql | tr '\n' ' ' | sed 's/ $//')" "--check writes nothing"
run generate add_mood --dir "$F" --schema "$S"
assert_eq 0 "$RC" "generate: $ERR"
assert_eq "0000_init.sql 0001_add_mood.sql 0002_add_mood_2.sql" "$(cd "$F" && ls *.sql | tr '\n' ' ' | sed 's/ $//')" \
	"the index on an existing table goes into a migration of its own"
assert_contains "$(cat "$F/0002_add_mood_2.sql")" "CREATE UNIQUE INDEX CONCURRENTLY users_email_key" "built concurrently"
assert_contains "$(cat "$F/0002_add_mood_2.sql")" "dbkit:no-transaction" "marked to run outside a transaction"
assert_contains "$(cat "$F/0001_add_mood.sql")" "--> statement-breakpoint" "statements split as drizzle splits them"
assert_eq "0000_init,0001_add_mood,0002_add_mood_2|1,2" "$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
print(",".join(x["tag"] for x in e) + "|" + ",".join(str(x["idx"]) for x in e[1:]))' "$F/meta/_journal.json")" "the journal has the new entries, with idx"
run check --dir "$F"
assert_eq 0 "$RC" "dbkit check accepts what generate wrote: $OUT"
run migrate --dir "$F"
assert_eq 0 "$RC" "and it applies: $ERR"
run generate again --dir "$F" --schema "$S" --check
assert_eq 0 "$RC" "afterwards the folder builds the schema: --check exits 0 ($OUT)"
run drift --dir "$F"
assert_eq 0 "$RC" "and drift --dir finds nothing: $OUT"
# bad input: each named, nothing written
printf 'CREATE TABLE users (id int);\n\nCREATE TABLE x (id int,);\n' >"$WORK/bad.sql"
run generate x --dir "$F" --schema "$WORK/bad.sql"
assert_eq 1 "$RC" "a syntax error in the schema file: exit 1"
assert_match "$ERR" "bad.sql, line 3: syntax error" "named with its line"
printf 'CREATE TABLE users (id int, v nosuchtype);\n' >"$WORK/bad.sql"
run generate x --dir "$F" --schema "$WORK/bad.sql"
assert_match "$ERR" "statement 1 \\(line 1\\): type \"nosuchtype\" does not exist" "an unknown type, named with its statement"
run generate x --dir "$F" --schema "$S" --rename public.nope.a=b
assert_eq 1 "$RC" "a rename that matches nothing is refused"
assert_contains "$ERR" "public.nope.a" "naming the rename"
printf 'DROP SCHEMA dbkit CASCADE;\n' >"$WORK/bad.sql"
run push --schema "$WORK/bad.sql"
assert_eq 1 "$RC" "a schema file that drops dbkit's own schema is refused"
assert_contains "$ERR" "drops schema dbkit" "saying what it would drop"
run generate x --dir "$WORK/nope" --schema "$S"
assert_match "$RC" "^[12]$" "a missing folder is an error"
run push --schema "$WORK/missing.sql"
assert_eq 2 "$RC" "a missing schema file: usage error"
assert_contains "$ERR" "cannot read the schema file" "named"
assert_eq "0000_init.sql 0001_add_mood.sql 0002_add_mood_2.sql" "$(cd "$F" && ls *.sql | tr '\n' ' ' | sed 's/ $//')" "nothing was written by the failures"

###############################################################################
# the code's side cached before the first deploy (no drizzle schema yet) was reused after
# it, and drizzle's schema showed as added for good (FWU-DE/telli-api, sweep of Dec 2)
case_begin drift/before-the-first-deploy
fresh_db eng_drift_first
run drift --dir "$F"
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: $ERR"
run drift --dir "$F"
assert_eq 0 "$RC" "drift --dir run before the first deploy leaves no false drift after it: $OUT"
assert_not_contains "$OUT" "schema drizzle" "drizzle's schema is not drift"

###############################################################################
case_begin drift/one-change-one-difference
fresh_db eng_drift
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: $ERR"
run drift --dir "$F"
assert_eq 0 "$RC" "clean after the deploy: $OUT"
run drift --dir "$F"
# two code sides: what the migrations build, and the newest drizzle snapshot generate wrote beside them
assert_eq "0|1|2" "$RC|$("${PSQL[@]}" -c "SELECT count(*) FROM dbkit.code_drift_results")|$("${PSQL[@]}" -c "SELECT count(*) FROM dbkit.code_schemas")" \
	"a second poll answers from the result cache (one answer; the migrations' and the snapshot's code sides kept)"
for change in "ALTER TABLE users ADD COLUMN note text|column +public.users.note" \
	"ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x'|column +public.users.email" \
	"DROP INDEX users_email_key|index +public.users_email_key" \
	"ALTER TYPE mood ADD VALUE 'great'|enum +public.mood" \
	"CREATE TABLE extra (id int PRIMARY KEY, v text)|table +public.extra"; do
	sql=${change%%|*} want=${change#*|}
	q "$sql"
	run drift --dir "$F" --json  # the change moves the catalog fingerprint: never the cached answer
	assert_eq 4 "$RC" "$sql: drift (exit 4)"
	assert_eq "1" "$(python3 -c 'import json,sys; print(len(json.loads(sys.stdin.read())["code"]))' <<<"$OUT")" "$sql: exactly one difference against the code"
	run drift --dir "$F"
	assert_match "$OUT" "$want" "$sql: named"
	run accept-drift --reason "e2e step"
	fresh_db eng_drift
	run migrate --dir "$F"
done
# a monitoring role (pg_monitor, no rights to rename schemas) cannot build the shadow,
# but reads the code's side a deployer's run left in the cache
"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS dk_eng_mon" -c "CREATE ROLE dk_eng_mon LOGIN IN ROLE pg_monitor" >/dev/null
drop_mon() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS eng_mon WITH (FORCE)" -c "DROP ROLE IF EXISTS dk_eng_mon" >/dev/null 2>&1 || true; }
E2E_CLEANUP+=(drop_mon)
fresh_db eng_mon
run migrate --dir "$F"
"${PSQL[@]}" -c "GRANT USAGE ON SCHEMA dbkit TO dk_eng_mon" >/dev/null
PGUSER=dk_eng_mon run drift --dir "$F"
assert_eq 1 "$RC" "a monitoring role's first poll cannot build the shadow: exit 1 ($OUT $ERR)"
assert_contains "$OUT$ERR" "one run by the deployer is enough" "and says what to do"
run drift --dir "$F"
assert_eq 0 "$RC" "the deployer's poll builds and keeps the code's side"
PGUSER=dk_eng_mon run drift --dir "$F"
assert_eq 0 "$RC" "then the monitoring role's poll works: $OUT $ERR"
assert_contains "$OUT" "matches the code" "from the cache"
# against a schema file instead of a folder: the same file generate used
run drift --schema "$S"
assert_eq 0 "$RC" "drift --schema: the live schema is what the file builds ($OUT)"
assert_contains "$OUT" "the live schema is what $S builds" "said so"
q "ALTER TABLE users ADD COLUMN note text"
run drift --schema "$S"
assert_eq 4 "$RC" "drift --schema after a change by hand: exit 4"
assert_match "$OUT" "1 difference between the live schema and $S .*added +column +public.users.note" "the column, once"
assert_contains "$OUT" "column public.users.note exists but $S does not declare it" \
	"in the file's words, not the migrations'"

###############################################################################
case_begin shadow/environment-a-migration-reads
# Found on public folders (session of Dec 2): ALTER DEFAULT PRIVILEGES IN SCHEMA public
# (tambo-ai/tambo) left the live public's default privileges in the code's side under
# the shadow's name for it; a migration that cleans drizzle's table (ding113/
# claude-code-hub's 0020) failed in the shadow, which had no such table.
G=$WORK/envreads
mkdir -p "$G"
"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS dk_eng_app" -c "CREATE ROLE dk_eng_app" >/dev/null
drop_app() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS eng_env WITH (FORCE)" -c "DROP ROLE IF EXISTS dk_eng_app" >/dev/null 2>&1 || true; }
E2E_CLEANUP+=(drop_app)
printf '%s\n' 'CREATE TABLE "t" ("id" integer PRIMARY KEY);' '--> statement-breakpoint' \
	'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO dk_eng_app;' '--> statement-breakpoint' \
	'ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO dk_eng_app;' >"$G/0000_init.sql"
printf '%s\n' 'DELETE FROM "drizzle"."__drizzle_migrations" WHERE "hash" = '"'none'"';' \
	'--> statement-breakpoint' 'ALTER TABLE "t" ADD COLUMN "v" text;' >"$G/0001_clean.sql"
write_journal "$G"
fresh_db eng_env
run migrate --dir "$G"
assert_eq 0 "$RC" "setup: $ERR"
run drift --dir "$G"
assert_eq 0 "$RC" "drift --dir right after the deploy: no difference ($OUT $ERR)"
assert_not_contains "$OUT$ERR" "dbkit_shadow_" "no shadow name in the output"
q "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO dk_eng_app"
run drift --dir "$G"
assert_eq 4 "$RC" "a default privilege changed by hand: drift"
assert_match "$OUT" "default_privileges +postgres in public on tables" "named with the schema's own name"
assert_not_contains "$OUT" "dbkit_shadow_" "and never the shadow's"

# An enum created inside a DO block (older drizzle-kit), a value added, then used by a later
# migration: the folder applies, the shadow (one transaction) cannot fold the value; the error
# says so, not "fix the statement" (found on a variant of dittofeed's folder, session of Dec 2)
E=$WORK/enumdo
mkdir -p "$E"
printf '%s\n' 'DO $$ BEGIN' ' CREATE TYPE "public"."status" AS ENUM('"'a'"', '"'b'"');' 'EXCEPTION' ' WHEN duplicate_object THEN null;' \
	'END $$;' '--> statement-breakpoint' 'CREATE TABLE "t_enum" ("id" serial PRIMARY KEY NOT NULL, "s" "status" DEFAULT '"'a'"' NOT NULL);' >"$E/0000_init.sql"
echo 'ALTER TYPE "public"."status" ADD VALUE '"'c'"';' >"$E/0001_add_c.sql"
echo 'ALTER TABLE "t_enum" ALTER COLUMN "s" SET DEFAULT '"'c'"';' >"$E/0002_use_c.sql"
write_journal "$E"
fresh_db eng_enumdo
run migrate --dir "$E" --transaction each
assert_eq 0 "$RC" "enum in a DO block: the folder applies: $ERR"
run drift --dir "$E"
# drizzle-kit's own DO block is folded like a plain CREATE TYPE (it could not be built before)
assert_eq 0 "$RC" "enum in a DO block: drift --dir builds the code's side and finds nothing: $OUT $ERR"
assert_contains "$OUT" "matches the code" "enum in a DO block: said so"
# a DO block that does more than drizzle-kit's cannot be folded: the error says why, not "fix the statement"
printf '%s\n' 'DO $$ BEGIN' ' CREATE TYPE "public"."status" AS ENUM('"'a'"', '"'b'"');' ' PERFORM 1;' 'EXCEPTION' \
	' WHEN duplicate_object THEN null;' 'END $$;' '--> statement-breakpoint' \
	'CREATE TABLE "t_enum" ("id" serial PRIMARY KEY NOT NULL, "s" "status" DEFAULT '"'a'"' NOT NULL);' >"$E/0000_init.sql"
fresh_db eng_enumdo2
run migrate --dir "$E" --transaction each
assert_eq 0 "$RC" "enum in a DO block of its own: the folder applies: $ERR"
run drift --dir "$E"
assert_eq 1 "$RC" "enum in a DO block of its own: drift --dir cannot build the code's side"
assert_contains "$OUT$ERR" "Nothing in the sources needs fixing" "enum in a DO block: and says the folder is fine"
assert_contains "$OUT$ERR" "inside a DO block" "enum in a DO block: and why"
assert_not_contains "$OUT$ERR" "Fix the statement named above" "enum in a DO block: not the generic advice"

# A snapshot PostgreSQL cannot build (two constraint names equal once cut at 63 bytes; the
# migration's DO block swallowed the second, as in wundergraph/cosmo's folder): the server
# says the code's side is then what the migrations build, and drift --dir shows that warning
# (it printed only "matches the code" before), in text and in --json.
case_begin drift/snapshot-postgresql-cannot-build
fresh_db drift_unbuildable
U=$DBKIT_SRC/tests/fixtures/snapshot-unbuildable
run migrate --dir "$U"
assert_eq 0 "$RC" "unbuildable snapshot: the folder migrates"
run drift --dir "$U"
assert_eq 0 "$RC" "unbuildable snapshot: no drift against what the migrations build"
assert_contains "$ERR" "warning: meta/0000_snapshot.json: PostgreSQL cannot build it" "unbuildable snapshot: the warning is shown"
assert_contains "$ERR" "the code's side is what the migrations build" "unbuildable snapshot: and what was compared instead"
# named by the statement's first line, not by a line of DDL no one sees (sweep of Dec 2)
assert_not_contains "$ERR" "(line " "unbuildable snapshot: no line number of dbkit's own DDL"
assert_contains "$ERR" "in the statement dbkit writes for it that begins" "unbuildable snapshot: the statement is named"
assert_not_contains "$ERR" "will be truncated" "unbuildable snapshot: the shadow's notices are not repeated"
run drift --dir "$U" --json
assert_contains "$OUT" '"warnings": [' "unbuildable snapshot: --json carries the warning"
assert_contains "$OUT" "PostgreSQL cannot build it" "unbuildable snapshot: --json names it"

# A change dbkit refuses to plan and that no option decides (a table made partitioned): the
# hint says to write it by hand (it ended in "Say what was meant: " and nothing).
case_begin push/refusal-without-an-option
fresh_db push_partitioned
q 'CREATE TABLE log (id integer, ts timestamptz)'
S=$WORK/partitioned.sql
echo 'CREATE TABLE log (id integer, ts timestamptz) PARTITION BY RANGE (ts);' >"$S"
run push --schema "$S"
assert_eq 1 "$RC" "partitioned: push refuses"
assert_contains "$ERR" "1 change to write by hand" "partitioned: says it is to be written by hand"
assert_contains "$ERR" "changes from table to partitioned RANGE (ts): dbkit does not plan that" "partitioned: names both shapes"
assert_contains "$ERR" "Write this change as a migration of your own" "partitioned: the hint says what to do"
assert_not_contains "$ERR" "Say what was meant" "partitioned: no hint cut short"

# Functions whose bodies name the schema's objects unqualified, as schema files write them
# (found on simstudioai/sim): push runs its plan under the caller's search_path, as a
# migration runs, so PostgreSQL's check of the body finds them (it failed with 42P01).
case_begin push/function-bodies-unqualified
fresh_db push_bodies
S=$WORK/bodies.sql
cat >"$S" <<'SQL'
CREATE TYPE "kind" AS ENUM ('file', 'folder');
CREATE TABLE "folder" ("id" text PRIMARY KEY, "k" "kind");
CREATE FUNCTION "folder_count"() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM folder $$;
CREATE FUNCTION "first_kind"() RETURNS text LANGUAGE plpgsql AS $$ DECLARE x "kind" := 'file'; BEGIN RETURN x::text; END $$;
SQL
run push --schema "$S"
assert_eq 0 "$RC" "unqualified bodies: push applies ($ERR)"
assert_eq "0|file" "$(q 'SELECT folder_count(), first_kind()')" "unqualified bodies: the functions work"

# generate --from-snapshot: a snapshot declares part of a schema. What hand-written (--custom)
# migrations made and no snapshot declares is kept: it planned DROP TRIGGER, DROP FUNCTION,
# DROP TABLE, a REVOKE (found on miurla/morphic, simstudioai/sim, 9technologygroup/quackback).
case_begin generate/from-snapshot-keeps-what-it-does-not-declare
fresh_db gen_custom
C=$WORK/custom
cp -r "$DBKIT_SRC/tests/fixtures/from-snapshot-custom" "$C"
run migrate --dir "$C"
assert_eq 0 "$RC" "custom: the folder migrates"
# drift --dir: a function a hand-written migration made, changed by hand, is "changed"
# against what the migrations built; it said "exists but no migration created it"
q 'CREATE OR REPLACE FUNCTION "touch"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$'
run drift --dir "$C"
assert_eq 4 "$RC" "custom: the function changed by hand is drift ($OUT)"
assert_match "$OUT" "changed +function +public.touch\\(\\) +definition differs" "custom: changed, against the code"
assert_not_contains "$OUT" "no migration created it" "custom: not called new"
assert_contains "$OUT" "the code (migrations, built by PostgreSQL)" "custom: compared with what the migrations built"
run accept-drift --reason "e2e: the function's new body stays"
run generate next --dir "$C" --from-snapshot --check
assert_eq 0 "$RC" "custom: --check finds nothing to do ($OUT $ERR)"
assert_contains "$OUT" "nothing to generate" "custom: nothing to generate"
assert_not_contains "$OUT" "DROP" "custom: nothing dropped"
# what the snapshot declares is still planned: a column schema.ts added, no DROP beside it
python3 - "$C/meta/0001_snapshot.json" <<'PY'
import json, sys
p = sys.argv[1]; j = json.load(open(p))
j["tables"]["public.a"]["columns"]["note"] = {"name": "note", "type": "text", "primaryKey": False, "notNull": False}
json.dump(j, open(p, "w"), indent=2)
PY
run generate next --dir "$C" --from-snapshot --check
assert_eq 4 "$RC" "custom: a column the snapshot adds: behind (exit 4)"
assert_contains "$OUT" 'ADD COLUMN note text' "custom: the column is planned"
assert_not_contains "$OUT" "DROP" "custom: and nothing dropped"
# a migration after the newest snapshot: it does not describe it; refused, nothing written
rm "$C/meta/0001_snapshot.json"
run generate next --dir "$C" --from-snapshot
assert_eq 1 "$RC" "stale snapshot: refused"
assert_contains "$ERR" "meta/0000_snapshot.json is older than 0001_custom: it does not describe what that migration does" "stale snapshot: says why"
assert_contains "$ERR" "Nothing was written" "stale snapshot: nothing written"
assert_eq 2 "$(ls "$C"/*.sql | wc -l)" "stale snapshot: no migration file written"

# a unique constraint on the primary key's column, folded by PostgreSQL into the primary key
# (homarr-labs/homarr, useautumn/autumn): the snapshot's DDL follows the database, so nothing
# is planned; it planned dropping the primary key and the foreign key on it
case_begin generate/pk-and-unique-folded
fresh_db gen_folded
P=$WORK/folded
cp -r "$DBKIT_SRC/tests/fixtures/pk-and-unique-folded" "$P"
run migrate --dir "$P"
assert_eq 0 "$RC" "folded: the folder migrates"
assert_eq "settings_key_unique p" "$(q "SELECT conname || ' ' || contype::text FROM pg_constraint WHERE conrelid = 'settings'::regclass")" \
	"folded: PostgreSQL has one primary key named like the unique constraint"
run generate next --dir "$P" --from-snapshot --check
assert_eq 0 "$RC" "folded: nothing to generate ($OUT $ERR)"
assert_not_contains "$OUT" "DROP CONSTRAINT" "folded: no key dropped"
run drift --dir "$P"
assert_eq 0 "$RC" "folded: drift --dir finds nothing: $OUT"

# a table renamed by a hand-written migration keeps its primary key's old name, which the
# snapshot cannot say (Mail-0/Zero): the database's name is used; a second primary key was planned
case_begin generate/renamed-table-keeps-its-pk-name
fresh_db gen_renamed_pk
N=$WORK/renamed-pk
cp -r "$DBKIT_SRC/tests/fixtures/renamed-table-pk" "$N"
run migrate --dir "$N"
assert_eq 0 "$RC" "renamed: the folder migrates"
run generate next --dir "$N" --from-snapshot --check
assert_eq 0 "$RC" "renamed: nothing to generate ($OUT $ERR)"
assert_not_contains "$OUT" "PRIMARY KEY" "renamed: no primary key planned"
run drift --dir "$N"
assert_eq 0 "$RC" "renamed: drift --dir finds nothing: $OUT"

# A table renamed by a migration keeps its serial sequence <old>_id_seq; the snapshot
# declares <new>_id_seq. generate --from-snapshot created a second sequence starting at 1
# and the next insert collided (dennis-adrian/glitter-nextjs); now it renames the sequence.
case_begin generate/from-snapshot-renamed-serial
fresh_db gen_serial
SR=$WORK/serial-rename
mkdir -p "$SR/meta"
printf 'CREATE TABLE "profile_tasks" (\n\t"id" serial PRIMARY KEY NOT NULL,\n\t"note" text\n);\n' >"$SR/0000_a.sql"
printf 'ALTER TABLE "profile_tasks" RENAME TO "scheduled_tasks";' >"$SR/0001_b.sql"
write_journal "$SR"
snap() { printf '%s' '{"id":"'"$1"'","prevId":"'"$2"'","version":"7","dialect":"postgresql","tables":{"public.'"$3"'":{"name":"'"$3"'","schema":"","columns":{"id":{"name":"id","type":"serial","primaryKey":true,"notNull":true},"note":{"name":"note","type":"text","primaryKey":false,"notNull":false}},"indexes":{},"foreignKeys":{},"compositePrimaryKeys":{},"uniqueConstraints":{},"policies":{},"checkConstraints":{},"isRLSEnabled":false}},"enums":{},"schemas":{},"sequences":{},"roles":{},"policies":{},"views":{},"_meta":{"columns":{},"schemas":{},"tables":{}}}'; }
snap 11111111-1111-4111-8111-111111111111 00000000-0000-0000-0000-000000000000 profile_tasks >"$SR/meta/0000_snapshot.json"
snap 22222222-2222-4222-8222-222222222222 11111111-1111-4111-8111-111111111111 scheduled_tasks >"$SR/meta/0001_snapshot.json"
run migrate --dir "$SR"
assert_eq 0 "$RC" "serial: the folder migrates: $ERR"
q "INSERT INTO scheduled_tasks (note) VALUES ('a'), ('b'), ('c')" >/dev/null
run generate probe --dir "$SR" --from-snapshot
assert_eq 0 "$RC" "serial: generate writes the migration: $ERR"
assert_contains "$(cat "$SR/0002_probe.sql")" "ALTER SEQUENCE public.profile_tasks_id_seq RENAME TO scheduled_tasks_id_seq" "serial: the sequence is renamed"
assert_not_contains "$(cat "$SR/0002_probe.sql")" "CREATE SEQUENCE" "serial: not made again"
run migrate --dir "$SR"
assert_eq 0 "$RC" "serial: it applies: $ERR"
assert_eq 4 "$(q "INSERT INTO scheduled_tasks (note) VALUES ('d') RETURNING id" | head -1)" "serial: the counter keeps counting"

# jsonb("c").default("none"): the snapshot holds 'none', the migration '"none"'::jsonb
# (lmnr-ai/lmnr). The snapshot's DDL was refused (22P02) and drift --dir failed for good.
case_begin drift/jsonb-string-default-in-a-snapshot
fresh_db eng_jsonb
JS=$WORK/jsonb-default
mkdir -p "$JS/meta"
printf '%s\n' 'CREATE TABLE "playgrounds" (' '	"id" integer PRIMARY KEY NOT NULL,' "	\"tool_choice\" jsonb DEFAULT '\"none\"'::jsonb" ');' >"$JS/0000_init.sql"
write_journal "$JS"
printf '%s' '{"id":"11111111-1111-4111-8111-111111111111","prevId":"00000000-0000-0000-0000-000000000000","version":"7","dialect":"postgresql","tables":{"public.playgrounds":{"name":"playgrounds","schema":"","columns":{"id":{"name":"id","type":"integer","primaryKey":true,"notNull":true},"tool_choice":{"name":"tool_choice","type":"jsonb","primaryKey":false,"notNull":false,"default":"'"'none'"'"}},"indexes":{},"foreignKeys":{},"compositePrimaryKeys":{},"uniqueConstraints":{},"policies":{},"checkConstraints":{},"isRLSEnabled":false}},"enums":{},"schemas":{},"sequences":{},"roles":{},"policies":{},"views":{},"_meta":{"columns":{},"schemas":{},"tables":{}}}' >"$JS/meta/0000_snapshot.json"
run migrate --dir "$JS"
assert_eq 0 "$RC" "jsonb: migrates: $ERR"
run drift --dir "$JS"
assert_eq 0 "$RC" "jsonb: drift --dir compares with the snapshot and finds nothing ($OUT $ERR)"
assert_not_contains "$ERR" "WARNING" "jsonb: the snapshot builds"
run generate next --dir "$JS" --from-snapshot --check
assert_eq 0 "$RC" "jsonb: nothing to generate ($OUT $ERR)"
assert_eq "'none'" "$(q "SELECT dbkit._drizzle_snapshot('drizzle') -> 'tables' -> 'public.playgrounds' -> 'columns' -> 'tool_choice' ->> 'default'")" \
	"jsonb: dbkit's snapshot writes the default as drizzle-kit does"

# A platform's schema (Supabase's auth) that the migrations use but never create: the
# shadow stands in for it with a copy of the live one. drift --dir, generate and push
# could not build such folders at all; now what the code puts there (a trigger on
# auth.users) is compared, and what only the platform holds is never drift nor dropped.
case_begin shadow/environment-schema-stood-in
fresh_db eng_platform
"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS dk_authenticated" -c "CREATE ROLE dk_authenticated" >/dev/null
drop_platform() { "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS eng_platform WITH (FORCE)" -c "DROP ROLE IF EXISTS dk_authenticated" >/dev/null 2>&1 || true; }
E2E_CLEANUP+=(drop_platform)
q "CREATE SCHEMA auth; CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2');
   CREATE TABLE auth.users (id uuid PRIMARY KEY, email text, aal auth.aal_level);
   CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS 'SELECT nullif(current_setting(''request.jwt.claim.sub'', true), '''')::uuid'" >/dev/null
PF=$WORK/platform
mkdir -p "$PF"
printf '%s\n' 'CREATE TABLE "profiles" ("id" uuid PRIMARY KEY NOT NULL, "name" text);' '--> statement-breakpoint' \
	'ALTER TABLE "profiles" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint' \
	'ALTER TABLE "profiles" ADD CONSTRAINT "profiles_id_users_id_fk" FOREIGN KEY ("id") REFERENCES "auth"."users"("id") ON DELETE cascade;--> statement-breakpoint' \
	'CREATE POLICY "own profile" ON "profiles" AS PERMISSIVE FOR SELECT TO "dk_authenticated" USING ((select auth.uid()) = id);' >"$PF/0000_init.sql"
printf '%s\n' 'CREATE FUNCTION public.handle_new_user() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '"''"' AS $$' \
	'BEGIN INSERT INTO public.profiles (id) VALUES (new.id); RETURN new; END $$;' '--> statement-breakpoint' \
	'CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();' >"$PF/0001_trigger.sql"
write_journal "$PF"
run migrate --dir "$PF"
assert_eq 0 "$RC" "platform: the folder migrates: $ERR"
run drift --dir "$PF"
assert_eq 0 "$RC" "platform: drift --dir builds the folder and finds nothing ($OUT $ERR)"
q "ALTER TABLE auth.users ADD COLUMN phone text" >/dev/null
q "DROP TRIGGER on_auth_user_created ON auth.users" >/dev/null
run drift --dir "$PF"
assert_eq 4 "$RC" "platform: the trigger the migrations put on auth.users, dropped by hand, is drift"
CODE_SIDE=$(sed -n '/and the code/,$p' <<<"$OUT")
assert_match "$CODE_SIDE" "removed +trigger +auth.users.on_auth_user_created" "platform: named against the code"
assert_not_contains "$CODE_SIDE" "auth.users.phone" "platform: the platform's own column is not the code's drift"
sed 's/--> statement-breakpoint//' "$PF/0000_init.sql" "$PF/0001_trigger.sql" >"$WORK/platform.sql"
run push --schema "$WORK/platform.sql" --dry-run
assert_eq 0 "$RC" "platform: push plans: $ERR"
assert_contains "$OUT" "CREATE TRIGGER on_auth_user_created" "platform: push puts the trigger back"
assert_not_contains "$OUT" "DROP" "platform: and drops nothing of the platform's"
# a platform schema the migrations never mention (Supabase's storage) is named by the setting
q "CREATE TRIGGER on_auth_user_created AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();
   CREATE SCHEMA storage; CREATE TABLE storage.objects (id uuid PRIMARY KEY, bucket_id text)" >/dev/null
run drift --dir "$PF"
assert_eq 4 "$RC" "platform: an unmentioned schema is the code's drift without the setting"
assert_contains "$OUT" "schema storage exists but no migration created it" "platform: named"
q "ALTER DATABASE eng_platform SET dbkit.environment_schemas = 'storage, realtime'" >/dev/null
run drift --dir "$PF"
assert_contains "$OUT" "the live schema matches the code in" "platform: with dbkit.environment_schemas it is the environment's ($OUT $ERR)"
assert_contains "$OUT" "schema storage exists but no migration created it" "platform: against the reference, made since the last migrate, it still is drift"
run push --schema "$WORK/platform.sql" --dry-run
assert_not_contains "$OUT" "DROP" "platform: push leaves it too ($OUT)"
# a pg_dump -s of the migrated database as the desired schema: it holds the platform's auth
# and drizzle's own table (which the shadow makes itself): nothing to do, and nothing to
# generate (generate planned CREATE SCHEMA auth; push failed on drizzle's table; sweep 6)
pg_dump -s -d eng_platform >"$WORK/platform_dump.sql"
run push --schema "$WORK/platform_dump.sql" --dry-run
assert_eq 0 "$RC" "platform: push with a pg_dump of the database: $ERR"
assert_contains "$OUT" "already matches" "platform: nothing to do"
run generate probe --dir "$PF" --schema "$WORK/platform_dump.sql" --check
assert_eq 0 "$RC" "platform: generate --check with that dump: nothing to generate ($OUT $ERR)"
run drift --schema "$WORK/platform_dump.sql"
assert_contains "$OUT" "the live schema is what" "platform: drift --schema with that dump builds it ($OUT $ERR)"

# The stand-in runs none of the platform's code (an attack: auth.users copied with LIKE
# ... INCLUDING ALL kept a default and a CHECK calling the platform owner's functions, and
# a build that inserts into it ran them as whoever builds: a superuser's generate in CI);
# it holds only what the sources use (2,000 tables of auth copied for one foreign key ran
# the lock table out); CREATE SCHEMA IF NOT EXISTS auth before using auth.users keeps the
# stand-in; and dbkit.environment_schemas reads names as identifiers, saying which match
# no schema.
case_begin shadow/environment-stand-in-runs-no-platform-code
fresh_db eng_platform_code
"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS dk_platform_adm" -c "CREATE ROLE dk_platform_adm" >/dev/null
q "CREATE SCHEMA auth AUTHORIZATION dk_platform_adm;
   SET ROLE dk_platform_adm;
   CREATE FUNCTION auth.stamp() RETURNS timestamptz LANGUAGE plpgsql AS 'BEGIN RAISE WARNING ''PLATFORM CODE RAN: stamp() as %'', current_user; RETURN now(); END';
   CREATE FUNCTION auth.ok(text) RETURNS boolean LANGUAGE plpgsql AS 'BEGIN RAISE WARNING ''PLATFORM CODE RAN: ok() as %'', current_user; RETURN true; END';
   CREATE DOMAIN auth.checked_text AS text CHECK (auth.ok(VALUE));
   CREATE TABLE auth.users (id uuid PRIMARY KEY, email text CHECK (auth.ok(email)), seen timestamptz DEFAULT auth.stamp(),
     made timestamptz NOT NULL DEFAULT now(), note auth.checked_text, upper_email text GENERATED ALWAYS AS (upper(email)) STORED);
   CREATE VIEW auth.user_view AS SELECT id, auth.ok(email) AS fine FROM auth.users;
   CREATE TABLE auth.unused (id int);
   RESET ROLE" >/dev/null
PC=$WORK/platform-code
mkdir -p "$PC"
printf '%s\n' 'CREATE SCHEMA IF NOT EXISTS "auth";' '--> statement-breakpoint' \
	'CREATE TABLE "profiles" ("id" uuid PRIMARY KEY NOT NULL REFERENCES "auth"."users"("id"));' '--> statement-breakpoint' \
	'CREATE VIEW "fine_users" AS SELECT * FROM "auth"."user_view";' '--> statement-breakpoint' \
	"INSERT INTO auth.users (id, email, note) VALUES ('00000000-0000-0000-0000-000000000001', 'a@b', 'n');" '--> statement-breakpoint' \
	"DELETE FROM auth.users WHERE id = '00000000-0000-0000-0000-000000000001';" >"$PC/0000_init.sql"
write_journal "$PC"
run migrate --dir "$PC"
assert_eq 0 "$RC" "platform code: the folder migrates (its insert runs the platform's code, live, as psql would): $ERR"
run drift --dir "$PC"
assert_eq 0 "$RC" "platform code: drift --dir builds it with CREATE SCHEMA IF NOT EXISTS auth before auth.users ($OUT $ERR)"
assert_not_contains "$OUT$ERR" "PLATFORM CODE RAN" "platform code: drift --dir ran no default, CHECK, domain or view of the platform"
run generate probe --dir "$PC" --schema "$PC/0000_init.sql" --check
assert_eq 0 "$RC" "platform code: generate --check builds it too ($OUT $ERR)"
assert_not_contains "$OUT$ERR" "PLATFORM CODE RAN" "platform code: nor did generate"
q "ALTER DATABASE eng_platform_code SET dbkit.environment_schemas = 'storage, \"Realtime\", Auth'" >/dev/null
q "CREATE SCHEMA \"Realtime\"" >/dev/null
run drift --dir "$PC"
assert_not_contains "$(sed -n '/and the code/,$p' <<<"$OUT")" "Realtime" "platform code: \"Realtime\" in the setting is the schema Realtime ($OUT)"
assert_contains "$ERR" "dbkit.environment_schemas names storage, and no schema here is called that" \
	"platform code: a name in the setting that matches no schema is said"
assert_not_contains "$ERR" "names auth," "platform code: Auth in the setting is auth, as in SQL"

# A folder that renames its own schema (eikona-io/api's 0008, sweep 7): once migrated, the
# new name was taken for a platform's schema, copied, and the rename collided (42P06).
case_begin shadow/schema-renamed-by-the-folder
fresh_db eng_schema_rename
PR=$WORK/schema-rename
mkdir -p "$PR"
printf '%s\n' 'CREATE SCHEMA "comfy_deploy";' '--> statement-breakpoint' \
	'CREATE TABLE "comfy_deploy"."machines" ("id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL, "name" text NOT NULL);' >"$PR/0000_init.sql"
printf '%s\n' 'ALTER SCHEMA "comfy_deploy" RENAME TO "comfyui_deploy";' >"$PR/0001_rename.sql"
printf '%s\n' 'ALTER TABLE "comfyui_deploy"."machines" ADD COLUMN "status" text;' >"$PR/0002_more.sql"
write_journal "$PR"
run migrate --dir "$PR"
assert_eq 0 "$RC" "schema rename: migrates: $ERR"
run drift --dir "$PR"
assert_eq 0 "$RC" "schema rename: drift --dir builds the folder and finds nothing ($OUT $ERR)"
sed 's/--> statement-breakpoint//' "$PR"/000*.sql >"$WORK/schema-rename.sql"
run generate probe --dir "$PR" --schema "$WORK/schema-rename.sql" --check
assert_eq 0 "$RC" "schema rename: generate --check builds it too ($OUT $ERR)"

# An earlier ADD VALUE inside a DO block the fold cannot read as drizzle's pattern
# (flowglad's 0109, sweep 7): a later ADD VALUE was folded ahead of it, so the code's side
# had the labels in another order than every real run (false drift, and generate planned
# recreating the enum, rewriting its tables).
case_begin shadow/enum-value-added-in-a-do-block
fresh_db eng_enum_do
PE=$WORK/enum-do
mkdir -p "$PE"
printf '%s\n' 'CREATE TYPE "PaymentStatus" AS ENUM ('"'canceled', 'processing', 'succeeded'"');--> statement-breakpoint' \
	'CREATE TABLE "payments" ("id" serial PRIMARY KEY, "status" "PaymentStatus" NOT NULL);' >"$PE/0000_init.sql"
printf '%s\n' 'DO $$ BEGIN' "  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'PaymentStatus') THEN" \
	"    CREATE TYPE \"PaymentStatus\" AS ENUM ('pending', 'completed', 'failed', 'refunded');" '  ELSE' \
	"    ALTER TYPE \"PaymentStatus\" ADD VALUE IF NOT EXISTS 'refunded';" '  END IF;' 'END $$;' >"$PE/0001_refunded.sql"
printf '%s\n' "ALTER TYPE \"PaymentStatus\" ADD VALUE IF NOT EXISTS 'failed';" >"$PE/0002_failed.sql"
printf '%s\n' "ALTER TABLE \"payments\" ALTER COLUMN \"status\" SET DEFAULT 'failed';" >"$PE/0003_use.sql"
write_journal "$PE"
run migrate --dir "$PE" --transaction each
assert_eq 0 "$RC" "enum in a DO block: migrates: $ERR"
run drift --dir "$PE"
assert_eq 0 "$RC" "enum in a DO block: drift --dir finds the labels in the order the runs left them ($OUT $ERR)"
pg_dump -s -d eng_enum_do -n public >"$WORK/enum-do.sql"
run generate probe --dir "$PE" --schema "$WORK/enum-do.sql" --check
assert_eq 0 "$RC" "enum in a DO block: generate --check with a dump of the database: nothing to generate ($OUT $ERR)"

# generate --from-snapshot making a serial an identity (PlanB's professors.id, sweep 7): the
# serial's sequence was kept, the identity's became professors_id_seq1, and drift --dir kept
# naming it against the snapshot. Now the old one is dropped and the new one takes its name.
case_begin snapshot/serial-made-identity
fresh_db eng_serial_identity
PI=$WORK/serial-identity
mkdir -p "$PI/meta"
printf '%s\n' 'CREATE SCHEMA "content";' '--> statement-breakpoint' \
	'CREATE TABLE IF NOT EXISTS "content"."professors" ("id" serial PRIMARY KEY NOT NULL, "name" text NOT NULL);' >"$PI/0000_init.sql"
write_journal "$PI"
printf '%s' '{"id":"11111111-1111-4111-8111-111111111111","prevId":"00000000-0000-0000-0000-000000000000","version":"7","dialect":"postgresql","tables":{"content.professors":{"name":"professors","schema":"content","columns":{"id":{"name":"id","type":"integer","primaryKey":true,"notNull":true,"identity":{"type":"always","name":"professors_id_seq","schema":"content","increment":"1","startWith":"1","minValue":"1","maxValue":"2147483647","cache":"1","cycle":false}},"name":{"name":"name","type":"text","primaryKey":false,"notNull":true}},"indexes":{},"foreignKeys":{},"compositePrimaryKeys":{},"uniqueConstraints":{},"policies":{},"checkConstraints":{},"isRLSEnabled":false}},"enums":{},"schemas":{"content":"content"},"sequences":{},"roles":{},"policies":{},"views":{},"_meta":{"columns":{},"schemas":{},"tables":{}}}' >"$PI/meta/0000_snapshot.json"
run migrate --dir "$PI"
q "INSERT INTO content.professors (name) VALUES ('a'), ('b')"
run generate to_identity --from-snapshot --dir "$PI"
assert_eq 0 "$RC" "serial made identity: generate writes the migration: $ERR"
assert_contains "$OUT" "DROP SEQUENCE content.professors_id_seq" "serial made identity: the serial's sequence is dropped"
run migrate --dir "$PI"
assert_eq 0 "$RC" "serial made identity: it applies: $ERR"
assert_eq "professors_id_seq" "$(q "SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_class WHERE relkind = 'S' AND relnamespace = 'content'::regnamespace")" \
	"serial made identity: one sequence, under the identity's name"
q "INSERT INTO content.professors (name) VALUES ('c')"
assert_eq 3 "$(q "SELECT max(id) FROM content.professors")" "serial made identity: the identity continues where the serial stopped"
run drift --dir "$PI"
assert_eq 0 "$RC" "serial made identity: drift --dir is clean ($OUT $ERR)"
assert_not_contains "$OUT" "professors_id_seq1" "serial made identity: no second sequence named"

# A CHECK a migration made as varchar_col IN (...), against the same CHECK read from a
# pg_dump -s of the database (pluggedin, sweep 7): PostgreSQL stores the dump's text another
# way than the migration's, so push planned rebuilding the constraint and drift --schema
# reported it. The live print is written back onto what the file builds: the same object.
case_begin schema/check-printed-two-ways
fresh_db eng_check_print
PC2=$WORK/check-print
mkdir -p "$PC2"
printf '%s\n' 'CREATE TABLE "device_auth_codes" (' '	"id" serial PRIMARY KEY,' "	\"status\" varchar(20) DEFAULT 'pending' NOT NULL," \
	"	CONSTRAINT \"device_auth_status_check\" CHECK (\"device_auth_codes\".\"status\" IN ('pending', 'approved', 'expired'))" ');' >"$PC2/0000_init.sql"
write_journal "$PC2"
run migrate --dir "$PC2"
pg_dump -s -d eng_check_print -n public >"$WORK/check-print.sql"
run push --schema "$WORK/check-print.sql" --dry-run
assert_contains "$OUT" "already matches" "check printed two ways: push with a dump of the database has nothing to do ($OUT)"
run drift --schema "$WORK/check-print.sql"
assert_eq 0 "$RC" "check printed two ways: drift --schema finds nothing ($OUT)"
q "ALTER TABLE device_auth_codes DROP CONSTRAINT device_auth_status_check, ADD CONSTRAINT device_auth_status_check CHECK (status IN ('pending', 'approved'))"
run drift --schema "$WORK/check-print.sql"
assert_eq 4 "$RC" "check printed two ways: a real change is still drift"
assert_contains "$OUT" "device_auth_status_check" "check printed two ways: named"

# A Supabase folder's snapshot with a foreign key to auth.users: the snapshot's DDL created
# an empty auth, so the stand-in never came; and a schema only a pending migration names
# was reported as added (sweep 6)
case_begin shadow/environment-schema-in-snapshots-and-pending-migrations
fresh_db eng_platform_snap
q "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, email text)" >/dev/null
PS=$WORK/platform-snap
mkdir -p "$PS/meta"
printf '%s\n' 'CREATE TABLE "profiles" (' '	"id" uuid PRIMARY KEY NOT NULL,' '	"name" text' ');' '--> statement-breakpoint' \
	'ALTER TABLE "profiles" ADD CONSTRAINT "profiles_id_users_id_fk" FOREIGN KEY ("id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;' >"$PS/0000_init.sql"
printf '%s' '{"id":"8d2c4a3e-6f1b-4c1e-9a55-0f8a3b2c1d00","prevId":"00000000-0000-0000-0000-000000000000","version":"7","dialect":"postgresql","tables":{"public.profiles":{"name":"profiles","schema":"","columns":{"id":{"name":"id","type":"uuid","primaryKey":true,"notNull":true},"name":{"name":"name","type":"text","primaryKey":false,"notNull":false}},"indexes":{},"foreignKeys":{"profiles_id_users_id_fk":{"name":"profiles_id_users_id_fk","tableFrom":"profiles","tableTo":"users","schemaTo":"auth","columnsFrom":["id"],"columnsTo":["id"],"onDelete":"cascade","onUpdate":"no action"}},"compositePrimaryKeys":{},"uniqueConstraints":{},"policies":{},"checkConstraints":{},"isRLSEnabled":false}},"enums":{},"schemas":{},"sequences":{},"roles":{},"policies":{},"views":{},"_meta":{"columns":{},"schemas":{},"tables":{}}}' >"$PS/meta/0000_snapshot.json"
write_journal "$PS"
PP=$WORK/platform-pending
mkdir -p "$PP"
cp "$PS/0000_init.sql" "$PP/0001_fk.sql"
printf 'CREATE TABLE "first" ("id" integer PRIMARY KEY);\n' >"$PP/0000_first.sql"
write_journal "$PP" 0000_first
run migrate --dir "$PP"
write_journal "$PP" 0000_first 0001_fk
run drift --dir "$PP"
assert_eq 0 "$RC" "pending: auth, named only by a pending migration, is not the code's drift ($OUT $ERR)"
assert_not_contains "$OUT" "schema auth" "pending: not called added"
assert_contains "$OUT" "(its applied migrations; 1 pending, compared once applied: dbkit status --dir lists it)" \
	"pending: the match says the pending migration is not compared (it said nothing; sweep 7)"
fresh_db eng_platform_snap
q "CREATE SCHEMA auth; CREATE TABLE auth.users (id uuid PRIMARY KEY, email text)" >/dev/null
run migrate --dir "$PS"
assert_eq 0 "$RC" "snapshot: migrates: $ERR"
run drift --dir "$PS"
assert_eq 0 "$RC" "snapshot: drift --dir compares with the snapshot ($OUT $ERR)"
assert_not_contains "$ERR" "cannot build" "snapshot: which builds"
run generate probe --dir "$PS" --from-snapshot --check
assert_eq 0 "$RC" "snapshot: nothing to generate from it ($OUT $ERR)"

finish
