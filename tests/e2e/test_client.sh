#!/usr/bin/env bash
# The client's contract: exit codes, connection sources, errors on stderr with
# file, statement, line, position and hint, --json, and status.
source "$(dirname "$0")/lib.sh"
F=$WORK/m
copy_fixture "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations" "$F"

case_begin client/usage
# usage
run --help
assert_eq 0 "$RC" "--help exits 0"
assert_contains "$OUT" "migrate" "--help lists migrate"
run --version
assert_eq 0 "$RC" "--version exits 0"
assert_contains "$OUT" "dbkit 0." "--version prints the version"
run migrate --no-such-flag
assert_eq 2 "$RC" "unknown flag: exit 2"
run
assert_eq 2 "$RC" "no command: exit 2"
run migrate --dir "$WORK/does-not-exist"
assert_eq 2 "$RC" "missing folder: exit 2"
assert_contains "$ERR" "does-not-exist does not exist" "names the folder"
(cd "$WORK" && run migrate) || true
(cd "$WORK" && "$DBKIT" migrate >/dev/null 2>"$WORK/err2"; echo $? >"$WORK/rc2") || true
assert_eq 2 "$(cat "$WORK/rc2")" "default folder src/db/migrations missing: exit 2"
assert_contains "$(cat "$WORK/err2")" "src/db/migrations" "names the default folder"

# a file name that is not UTF-8 cannot be shipped in JSON: exit 1, the file named
B=$WORK/badname
mkdir -p "$B/meta"
printf '{"version": "7", "dialect": "postgresql", "entries": []}' >"$B/meta/_journal.json"
printf 'SELECT 1;\n' >"$B/0000_caf"$'\xe9'".sql"
run check --dir "$B" --offline
assert_eq 1 "$RC" "non-UTF-8 file name: exit 1"
assert_contains "$ERR" "file name is not valid UTF-8" "non-UTF-8 file name: says so"
assert_contains "$ERR" "0000_caf" "non-UTF-8 file name: names the file"
run migrate --dir "$B"
assert_eq 1 "$RC" "non-UTF-8 file name, migrate: exit 1"
assert_contains "$ERR" "file name is not valid UTF-8" "non-UTF-8 file name, migrate: says so"

case_begin client/connection-errors
# connection errors
run migrate --dir "$F" --url "postgresql:///x?host=$WORK/nosocket"
assert_eq 3 "$RC" "unreachable server: exit 3"
assert_contains "$ERR" "cannot connect" "says it cannot connect"
fresh_db noext_tmp
"${PSQL[@]}" -d noext_tmp -c 'DROP EXTENSION dbkit'
run migrate --dir "$F"
assert_eq 3 "$RC" "extension missing: exit 3"
assert_contains "$ERR" "extension is not installed" "says the extension is missing"
assert_contains "$ERR" "dbkit init" "says how to install it"
run init
assert_eq 0 "$RC" "dbkit init creates the extension"
assert_eq dbkit "$(q "SELECT extname FROM pg_extension WHERE extname = 'dbkit'")" "extension present after init"

case_begin client/database-url
# DATABASE_URL and --url pick the database; --url wins
fresh_db client_a
fresh_db client_b
export PGDATABASE=postgres
DATABASE_URL="postgresql:///client_a?host=$PGHOST&port=$PGPORT&user=$PGUSER" run migrate --dir "$F"
assert_eq 0 "$RC" "DATABASE_URL: exit 0"
assert_eq 9 "$("${PSQL[@]}" -d client_a -c 'SELECT count(*) FROM dbkit.migrations')" "DATABASE_URL used"
DATABASE_URL="postgresql:///client_a?host=$PGHOST" run migrate --dir "$F" --url "postgresql:///client_b?host=$PGHOST&port=$PGPORT&user=$PGUSER"
assert_eq 9 "$("${PSQL[@]}" -d client_b -c 'SELECT count(*) FROM dbkit.migrations')" "--url wins over DATABASE_URL"
export PGDATABASE=client_b

case_begin client/status
# status, text and JSON
run status --dir "$F"
assert_eq 0 "$RC" "status exits 0"
assert_contains "$OUT" "9 migrations in $F: 9 applied" "status summary"
run status --dir "$F" --json
assert_eq 9 "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(m["state"]=="applied" for m in d["migrations"]))' <<<"$OUT")" "status --json"
run status
assert_contains "$OUT" "9 migrations recorded" "status without a folder shows the history"

case_begin client/long-history
# a long history: the newest 20 and what needs attention, --all lists every row
L=$WORK/long
python3 - "$L" <<'PY'
import json, os, sys
d = sys.argv[1]; os.makedirs(d + "/meta")
tags = [f"{i:04d}_t{i}" for i in range(30)]
for i, t in enumerate(tags):
    open(f"{d}/{t}.sql", "w").write(f'CREATE TABLE "t{i}" ("id" integer);\n')
json.dump({"version": "7", "dialect": "postgresql", "entries": [
    {"idx": i, "version": "7", "when": 1700000000000 + i, "tag": t, "breakpoints": True} for i, t in enumerate(tags)]},
    open(d + "/meta/_journal.json", "w"))
PY
fresh_db client_long
run migrate --dir "$L"
assert_eq 0 "$RC" "long: 30 migrations applied"
run status
assert_contains "$OUT" "30 migrations recorded in" "long history: the total"
assert_contains "$OUT" "the newest 20 are shown (--all lists every one)" "long history: says what it left out"
assert_contains "$OUT" "0029_t29" "long history: the newest is shown"
assert_not_contains "$OUT" "0009_t9 " "long history: the 10th is not"
run status --all
assert_contains "$OUT" "0000_t0 " "status --all: the first is shown"
assert_eq 32 "$(wc -l <<<"$OUT")" "status --all: header, 30 rows, summary"
run status --json
assert_eq 30 "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["history"]))' <<<"$OUT")" "status --json: every row"
printf 'CREATE TABLE "x" ("id" integer);\n' >"$L/0003_t3.sql"  # an applied file edited
run status --dir "$L"
assert_contains "$OUT" "... 3 applied migrations not shown (--all lists every one)" "status --dir: hides the oldest applied"
assert_contains "$OUT" "0003_t3" "status --dir: a modified one is always shown"
assert_contains "$OUT" "modified" "status --dir: its state"
assert_contains "$OUT" "30 migrations in $L: 29 applied, 1 modified" "status --dir: the summary counts every row"
assert_contains "$OUT" "... 6 applied migrations not shown (--all lists every one)" "status --dir: a second gap, after the modified one"
FIRST=$OUT
run status --dir "$L"  # from the answer the server stored for this folder (only the printed rows are sent)
assert_eq "$FIRST" "$OUT" "status --dir: the stored answer prints the same"
DBKIT_NO_CACHE=1 run status --dir "$L"
assert_eq "$FIRST" "$OUT" "status --dir: without the caches, the same"
run status --dir "$L" --all
assert_contains "$OUT" "0000_t0" "status --dir --all: every row"
export PGDATABASE=client_b

case_begin client/failing-statement
# a failing statement: exit 1, file/statement/line/SQLSTATE/hint on stderr, nothing applied
fresh_db client_fail
printf 'CREATE TABLE "extra" ("id" integer);\n--> statement-breakpoint\nALTER TABLE "extra"\n  ADD COLUMN "n" integer REFERENCES "missing" ("id");' >"$F/0009_broken.sql"
python3 - "$F/meta/_journal.json" <<'PY'
import json, sys
p = sys.argv[1]; j = json.load(open(p))
j["entries"].append({"idx": 9, "version": "7", "when": 1795644750000, "tag": "0009_broken", "breakpoints": True})
open(p, "w").write(json.dumps(j, indent=2))
PY
run migrate --dir "$F"
assert_eq 1 "$RC" "failing statement: exit 1"
assert_contains "$ERR" "migration 0009_broken.sql, statement 2 (line 3)" "names file, statement and line"
assert_contains "$ERR" 'relation "missing" does not exist' "keeps PostgreSQL's message"
assert_contains "$ERR" "42P01" "shows the SQLSTATE"
assert_contains "$ERR" "Fix 0009_broken.sql" "hint says what to do"
assert_eq 0 "$(q 'SELECT count(*) FROM dbkit.migrations')" "nothing recorded"
assert_eq "" "$(q "SELECT relname FROM pg_class WHERE relname IN ('users', 'extra')")" "nothing applied"
run migrate --dir "$F" --json
assert_eq 1 "$RC" "--json failure: exit 1"
assert_eq 42P01 "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["sqlstate"])' <<<"$OUT")" "--json carries the SQLSTATE"
case_begin client/syntax-error-caret
# a syntax error shows the line with a caret
printf 'CREATE TABLE "extra" ("id" integer);\n--> statement-breakpoint\nALTER TABLE "extra"\n  ADD COLUMN "n" integer NOT NUL;' >"$F/0009_broken.sql"
run migrate --dir "$F"
assert_eq 1 "$RC" "syntax error: exit 1"
assert_contains "$ERR" "migration 0009_broken.sql, line 4: syntax error" "syntax error names the line"
assert_contains "$ERR" 'syntax error at or near "NUL"' "PostgreSQL's message names the token"
# "  at       <the line>" then a line with a caret exactly under the token PostgreSQL names
at_line=$(grep -m1 '^  at ' <<<"$ERR" || true)
caret_line=$(grep -m1 -A1 '^  at ' <<<"$ERR" | tail -1 || true)
prefix=${at_line%%NUL;*}
assert_eq '  at         ADD COLUMN "n" integer NOT NUL;' "$at_line" "shows the offending line"
assert_eq "$(printf '%*s^' "${#prefix}" '')" "$caret_line" "the caret is under NUL, the token of the error"
# fixed: the rerun applies everything
printf 'CREATE TABLE "extra" ("id" integer);' >"$F/0009_broken.sql"
run migrate --dir "$F" --json
assert_eq 0 "$RC" "rerun after the fix: exit 0"
assert_eq 10 "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["applied"])' <<<"$OUT")" "--json reports 10 applied"

case_begin client/invalid-utf8
# a file that is not UTF-8 is refused with its name and offset; nothing is sent
fresh_db client_utf8
printf 'CREATE TABLE "t" ("a" text DEFAULT \xff);' >"$F/0009_broken.sql"
run migrate --dir "$F"
assert_eq 1 "$RC" "invalid UTF-8: exit 1"
assert_contains "$ERR" "0009_broken.sql: invalid UTF-8 at byte 35" "names the file and the byte"
assert_eq 0 "$(q 'SELECT count(*) FROM dbkit.migrations')" "nothing applied"

case_begin client/warnings-once
# A journal warning is shown once per run, though every server call that reads the folder
# raises it again (a non-transactional migration makes two more), and once per gap
# (idx 0, 2, 3: one warning, at 0002), not for every entry after it.
fresh_db client_warn_once
G=$WORK/warn_once
mkdir -p "$G/meta"
printf 'CREATE TABLE "t" ("a" int, "b" int);' >"$G/0000_t.sql"
printf 'CREATE INDEX CONCURRENTLY "t_a" ON "t" ("a");\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "t_b" ON "t" ("b");' >"$G/0002_a.sql"
printf 'CREATE INDEX CONCURRENTLY "t_ab" ON "t" ("a", "b");' >"$G/0003_b.sql"
python3 - "$G" <<'PY'
import json, sys
d = sys.argv[1]
entries = [{"idx": i, "version": "7", "when": 1795644700000 + i, "tag": t, "breakpoints": True}
           for i, t in [(0, "0000_t"), (2, "0002_a"), (3, "0003_b")]]
json.dump({"version": "7", "dialect": "postgresql", "entries": entries}, open(d + "/meta/_journal.json", "w"))
PY
run migrate --dir "$G"
assert_eq 0 "$RC" "applied: $ERR"
assert_eq 1 "$(grep -c 'idx_not_contiguous\|idx is 2, expected 1' <<<"$ERR" || true)" "the gap is warned about once: $ERR"
assert_eq 0 "$(grep -c 'idx is 3' <<<"$ERR" || true)" "not again for the entry after it"
# a migration's own warnings are its own: two migrations raising the same one show it twice
printf 'DO $$ BEGIN RAISE WARNING %s; END $$;' "'backfill by hand'" >"$G/0004_w1.sql"
printf 'DO $$ BEGIN RAISE WARNING %s; END $$;' "'backfill by hand'" >"$G/0005_w2.sql"
python3 - "$G" <<'PY'
import json, sys
p = sys.argv[1] + "/meta/_journal.json"; j = json.load(open(p))
j["entries"] += [{"idx": 4, "version": "7", "when": 1795644700004, "tag": "0004_w1", "breakpoints": True},
                 {"idx": 5, "version": "7", "when": 1795644700005, "tag": "0005_w2", "breakpoints": True}]
json.dump(j, open(p, "w"))
PY
run migrate --dir "$G"
assert_eq 0 "$RC" "two more applied: $ERR"
assert_eq 2 "$(grep -c 'backfill by hand' <<<"$ERR" || true)" "each migration's own warning is shown: $ERR"
assert_contains "$ERR" "where    migration 0004_w1.sql, statement 1 (line 1)" "each names the migration and statement that raised it"
assert_contains "$ERR" "where    migration 0005_w2.sql, statement 1 (line 1)" "the second one too"
# a non-transactional migration's statements run from the client: their notices name them too
# (useautumn/autumn's 0055 raised one with no source)
printf 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "t_a" ON "t" ("a");' >"$G/0006_again.sql"
python3 - "$G" <<'PY'
import json, sys
p = sys.argv[1] + "/meta/_journal.json"; j = json.load(open(p))
j["entries"] += [{"idx": 6, "version": "7", "when": 1795644700006, "tag": "0006_again", "breakpoints": True}]
json.dump(j, open(p, "w"))
PY
run migrate --dir "$G"
assert_eq 0 "$RC" "the non-transactional one applied: $ERR"
assert_contains "$ERR" 'relation "t_a" already exists, skipping' "its notice is shown"
assert_contains "$ERR" "where    migration 0006_again, statement 1 (line 1)" "and names the migration and statement"
# status: the name column is as wide as the longest name (drizzle-kit 1.0 names run long), so the
# state column stays aligned
L=$WORK/longnames
mkdir -p "$L"
long=0001_add-completed-at-and-review-started-at-fields-for-annotation-queues
echo 'CREATE TABLE ln (id int PRIMARY KEY);' >"$L/0000_a.sql"
echo 'ALTER TABLE ln ADD COLUMN v text;' >"$L/$long.sql"
write_journal "$L" 0000_a "$long"
fresh_db client_longnames
run migrate --dir "$L"
assert_eq 0 "$RC" "long names: applied: $ERR"
run status --dir "$L"
cols=$(awk '/0000_a |annotation-queues / { print index($0, " applied") }' <<<"$OUT" | sort -u)
assert_eq 1 "$(wc -l <<<"$cols")" "long names: status --dir keeps the state column aligned: $OUT"
run status
cols=$(awk '/0000_a |annotation-queues / { print index($0, " applied") }' <<<"$OUT" | sort -u)
assert_eq 1 "$(wc -l <<<"$cols")" "long names: status (the history) too: $OUT"
# A failure after a non-transactional migration committed earlier ones: the hint says they
# stay applied (it said nothing from the run was applied; a sweep of public folders found it)
P=$WORK/partial
mkdir -p "$P"
echo 'CREATE TABLE "items" ("id" integer PRIMARY KEY, "name" text);' >"$P/0000_items.sql"
echo 'CREATE INDEX CONCURRENTLY "items_name_idx" ON "items" ("name");' >"$P/0001_idx.sql"
echo 'ALTER TABLE "itemz" ADD COLUMN "qty" integer;' >"$P/0002_broken.sql"
write_journal "$P" 0000_items 0001_idx 0002_broken
fresh_db client_partial
run migrate --dir "$P"
assert_eq 1 "$RC" "partial: the third migration fails"
assert_not_contains "$ERR" "Nothing from this run was applied" "partial: not 'nothing was applied'"
assert_contains "$ERR" "the 2 migrations this run applied before it (through 0001_idx) stay applied and recorded" \
	"partial: says what stays applied"
assert_eq 2 "$(q 'SELECT count(*) FROM dbkit.migrations')" "partial: and they are"
run migrate --dir "$P" --json
assert_contains "$OUT" "Nothing from this run was applied" "partial: a run that applied nothing before failing still says so"
finish
