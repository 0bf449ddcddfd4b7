#!/usr/bin/env bash
# Issue 17 item 6: dbkit migrate --dry-run
#  - honours --transaction each: a folder the real each-run applies (an enum
#    value added by one migration, used by the next) is rehearsed without a
#    false failure: the use is reported as not rehearsed (PostgreSQL accepts it
#    only after a commit, SQLSTATE 55P04), exit 0;
#  - refuses with the real run's SQLSTATEs (DK002 modified, DK003 missing,
#    DK004 out of order) and its "Nothing was applied." hint;
#  - releases the session advisory locks a migration took (pg_advisory_lock
#    survives a rollback), and keeps the caller's own.
source "$(dirname "$0")/lib.sh"
json_get() { # json python-expression-on-j
	python3 -c 'import json, sys
j = json.loads(sys.argv[1])
print(eval(sys.argv[2]))' "$1" "$2"
}
state() {
	schema_dump
	q "SELECT tag, hash FROM dbkit.migrations ORDER BY id"
	q "SELECT count(*) FROM dbkit.events"
}

###############################################################################
# --transaction each: an enum value added by one migration, used by the next
###############################################################################
fresh_db dry_run_each
F=$WORK/each
mkdir -p "$F"
printf 'CREATE TYPE "mood" AS ENUM ('"'"'ok'"'"');\n--> statement-breakpoint\nCREATE TABLE "m" ("id" integer PRIMARY KEY, "v" "mood");\n' >"$F/0000_mood.sql"
write_journal "$F"
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: the enum exists (committed)"
printf 'ALTER TYPE "mood" ADD VALUE '"'"'great'"'"';\n' >"$F/0001_mood_great.sql"
printf 'INSERT INTO "m" VALUES (1, '"'"'great'"'"');\n--> statement-breakpoint\nCREATE TABLE "after" ("id" integer PRIMARY KEY);\n' >"$F/0002_use_great.sql"
printf 'CREATE TABLE "later" ("id" integer PRIMARY KEY);\n' >"$F/0003_later.sql"
write_journal "$F"
before=$(state)

run migrate --dir "$F" --dry-run --transaction each
assert_eq 0 "$RC" "each: the dry run of a folder the real each-run applies exits 0 ($ERR)"
assert_contains "$OUT" "not rehearsed: it uses an enum value that an earlier migration of this dry run added" \
	"each: the use of the new value is reported as not rehearsed"
assert_contains "$OUT" "55P04" "each: with the SQLSTATE PostgreSQL gives"
assert_contains "$OUT" "not rehearsed: it follows statement 1" "each: the rest of that migration is listed, not run"
assert_contains "$OUT" "not rehearsed: it comes after 0002_use_great" "each: later migrations are listed, not run"
assert_contains "$OUT" "not run (see their notes)" "each: the summary counts what did not run"
run migrate --dir "$F" --dry-run --transaction each --json
assert_eq 0 "$RC" "each --json: exit 0"
assert_eq "1 3" "$(json_get "$OUT" '" ".join(map(str, [len([s for s in j["statements"] if s["duration_ms"] is not None]), j["not_run"]]))')" \
	"each --json: ALTER TYPE ran; the INSERT, the CREATE after it and 0003 did not"
assert_eq "$before" "$(state)" "each: the dry run left nothing"

# the default (all) mode fails like the real all-mode run does
run migrate --dir "$F" --dry-run
assert_eq 1 "$RC" "all: the dry run fails like the real run"
assert_contains "$ERR" "55P04" "all: with 55P04"
run migrate --dir "$F"
assert_eq 1 "$RC" "all: the real run fails too"
# the hint names the way out, not "fix 0002" (the file is fine: found on PageSpace's folder)
assert_contains "$ERR" "run dbkit migrate --transaction each" "all: the hint says to commit each migration"
assert_not_contains "$ERR" "Fix 0002_use_great.sql" "all: and does not blame the file"
# and the real each-run applies the folder the each dry run accepted
run migrate --dir "$F" --transaction each
assert_eq 0 "$RC" "each: the real run applies it"
assert_eq "great" "$(q 'SELECT v FROM m WHERE id = 1')" "each: the value was used"

# a migration that uses a value it added itself fails in the each dry run (as in the real one)
fresh_db dry_run_each_own
G=$WORK/own
mkdir -p "$G"
cp "$F/0000_mood.sql" "$G/"
write_journal "$G"
run migrate --dir "$G"
printf 'ALTER TYPE "mood" ADD VALUE '"'"'meh'"'"';\n--> statement-breakpoint\nINSERT INTO "m" VALUES (2, '"'"'meh'"'"');\n' >"$G/0001_own.sql"
write_journal "$G"
run migrate --dir "$G" --dry-run --transaction each
assert_eq 1 "$RC" "each: a value used in the migration that adds it still fails"
assert_contains "$ERR" "55P04" "each: own value: 55P04"
assert_contains "$ERR" "put COMMIT after its ALTER TYPE ... ADD VALUE" "each: own value: the hint gives the file's fix"

###############################################################################
# refusals: the real run's SQLSTATEs and hint
###############################################################################
fresh_db dry_run_refusals
R=$WORK/refuse
mkdir -p "$R"
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY);\n' >"$R/0000_a.sql"
printf 'CREATE TABLE "c" ("id" integer PRIMARY KEY);\n' >"$R/0002_c.sql"
write_journal "$R"
run migrate --dir "$R"
assert_eq 0 "$RC" "refusals: setup"
refused() { # label sqlstate
	run migrate --dir "$R" --dry-run --json
	assert_eq 1 "$RC" "$1: exit 1"
	assert_eq "$2" "$(json_get "$OUT" 'j["error"]["sqlstate"]')" "$1: SQLSTATE $2, as the real run"
	assert_contains "$(json_get "$OUT" 'j["error"]["hint"]')" "Nothing was applied." "$1: the hint says nothing was applied"
	run migrate --dir "$R" --json
	assert_eq "$2" "$(json_get "$OUT" 'j["error"]["sqlstate"]')" "$1: the real run refuses with the same SQLSTATE"
}
printf -- '-- edited\nCREATE TABLE "a" ("id" integer PRIMARY KEY);\n' >"$R/0000_a.sql"
refused "modified" DK002
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY);\n' >"$R/0000_a.sql"
mv "$R/0002_c.sql" "$WORK/0002_c.sql.away"
write_journal "$R"
refused "missing" DK003
mv "$WORK/0002_c.sql.away" "$R/0002_c.sql"
printf 'CREATE TABLE "b" ("id" integer PRIMARY KEY);\n' >"$R/0001_b.sql"
write_journal "$R"
refused "out of order" DK004

###############################################################################
# session advisory locks taken by a migration are released; the caller's stay
###############################################################################
fresh_db dry_run_locks
L=$WORK/locks
mkdir -p "$L"
printf 'SELECT pg_advisory_lock(42);\n--> statement-breakpoint\nSELECT pg_advisory_lock(42), pg_advisory_lock_shared(7, 8), pg_advisory_xact_lock(43);\n--> statement-breakpoint\nCREATE TABLE "t" ("id" integer PRIMARY KEY);\n' >"$L/0000_locks.sql"
write_journal "$L"
python3 - "$L" >"$WORK/locks.json" <<'PY'
import json, os, sys
d = sys.argv[1]
files = {f: open(os.path.join(d, f)).read() for f in os.listdir(d) if f.endswith(".sql")}
print(json.dumps({"journal": open(os.path.join(d, "meta/_journal.json")).read(), "files": files}))
PY
got=$("${PSQL[@]}" -v payload="$(cat "$WORK/locks.json")" <<'SQL'
SELECT pg_advisory_lock(99);
SELECT count(*) FROM dbkit_dry_run(:'payload'::jsonb);
SELECT coalesce(string_agg(objid::text || '/' || mode, ',' ORDER BY objid), 'none') FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid();
SQL
)
assert_eq "$(printf '\n3\n99/ExclusiveLock')" "$got" "locks: after the dry run only the caller's own lock (99) is held"
run migrate --dir "$L" --dry-run
assert_eq 0 "$RC" "locks: the client's dry run exits 0"
assert_eq "0" "$(q "SELECT count(*) FROM pg_class WHERE relname = 't'")" "locks: nothing was created"

###############################################################################
# after a non-transactional migration (not run), a migration that needs what it builds is
# not rehearsed, not failed; an enum value it adds, likewise; a real error after it still fails
###############################################################################
fresh_db dry_run_nontx
N=$WORK/nontx
mkdir -p "$N"
printf 'CREATE TYPE "st" AS ENUM (%s);\n--> statement-breakpoint\nCREATE TABLE "ws" ("id" text PRIMARY KEY, "w" text NOT NULL);\n' "'a'" >"$N/0000_base.sql"
printf 'CREATE TABLE "more" ("id" text PRIMARY KEY);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY IF NOT EXISTS "ws_w_idx" ON "ws" ("w");\n' >"$N/0001_nontx.sql"
printf 'INSERT INTO "more" ("id") VALUES (%s);\n' "'a'" >"$N/0002_seed.sql"
write_journal "$N"
run migrate --dir "$N" --dry-run
assert_eq 0 "$RC" "nontx: the dry run exits 0 ($ERR)"
assert_contains "$OUT" "not run: a non-transactional migration cannot run inside the dry run's transaction" "nontx: it is listed, not run"
assert_contains "$OUT" "relation \"more\" does not exist (SQLSTATE 42P01)) after 0001_nontx, a non-transactional migration" \
	"nontx: the migration that needs what it builds is not rehearsed, with why"
assert_eq "0" "$(q "SELECT count(*) FROM pg_class WHERE relname IN ('ws', 'more')")" "nontx: nothing remains"
printf -- '-- dbkit:no-transaction\nALTER TYPE "st" ADD VALUE %s;\n' "'b'" >"$N/0001_nontx.sql"
printf 'CREATE TABLE "uses" ("s" "st" DEFAULT %s);\n' "'b'" >"$N/0002_seed.sql"
run migrate --dir "$N" --dry-run
assert_eq 0 "$RC" "nontx enum: the dry run exits 0 ($ERR)"
assert_contains "$OUT" "not rehearsed: it failed" "nontx enum: the use of the value it adds is not rehearsed"
printf 'CREATE TABLE "broken" ("id" int PRIMARY KEY, "id" int);\n' >"$N/0002_seed.sql"
run migrate --dir "$N" --dry-run
assert_eq 1 "$RC" "a real error after it still fails the dry run"
assert_contains "$ERR" "specified more than once" "naming it"
printf 'CREATE TABLE "uses" ("s" "st" DEFAULT %s);\n' "'b'" >"$N/0002_seed.sql"
run migrate --dir "$N"
assert_eq 0 "$RC" "nontx: the real run applies all three ($ERR)"
finish
