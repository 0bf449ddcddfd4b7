#!/usr/bin/env bash
# A modified or deleted applied file, or a branch merged late, makes migrate
# exit 1 naming the migration, and changes nothing.
source "$(dirname "$0")/lib.sh"
F=$WORK/m
copy_fixture "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations" "$F"
fresh_db modified
run migrate --dir "$F"
assert_eq 0 "$RC" "first apply"
before_schema=$(schema_dump)
before_history=$(q 'SELECT tag, hash, applied_at FROM dbkit.migrations ORDER BY id')

printf '\n-- an edit after the fact\n' >>"$F/0003_add_published_to_posts.sql"
run migrate --dir "$F"
assert_eq 1 "$RC" "modified file: exit 1"
assert_contains "$ERR" "0003_add_published_to_posts was modified" "the error names the migration"
assert_contains "$ERR" "dbkit accept-change 0003_add_published_to_posts" "the hint gives the next command"
assert_contains "$ERR" "DK002" "SQLSTATE DK002"
cp "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations/0003_add_published_to_posts.sql" "$F/"

# only the line endings changed (a checkout with git's autocrlf): still refused, and said so
perl -pi -e 's/\n/\r\n/' "$F/0002_add_organizations.sql"  # as git does: every LF, nothing else
run migrate --dir "$F"
assert_eq 1 "$RC" "CRLF checkout of an applied file: exit 1"
assert_contains "$ERR" "only its line endings differ: CRLF now, LF when applied" "says only the line endings differ"
assert_contains "$ERR" "core.autocrlf" "and where that comes from"
run status --dir "$F"
assert_contains "$OUT" "only its line endings differ" "status says it too"
cp "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations/0002_add_organizations.sql" "$F/"

rm "$F/0008_add_updated_at_trigger.sql"
python3 - "$F/meta/_journal.json" <<'PY'
import json, sys
p = sys.argv[1]; j = json.load(open(p)); j["entries"] = j["entries"][:-1]; open(p, "w").write(json.dumps(j, indent=2))
PY
run migrate --dir "$F"
assert_eq 1 "$RC" "deleted applied file: exit 1"
assert_contains "$ERR" "0008_add_updated_at_trigger is recorded as applied but is no longer in the folder" "names the missing migration"
copy_fixture "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations/meta/_journal.json" "$F/meta/_journal.json"
cp "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations/0008_add_updated_at_trigger.sql" "$F/"

# the file deleted but its journal entry kept: migrate refuses (the journal names a file
# that is not there); status still shows every migration, this one `missing`, and warns
rm "$F/0005_add_indexes.sql"
run migrate --dir "$F"
assert_eq 1 "$RC" "a journal entry without its file: migrate exits 1"
assert_contains "$ERR" "0005_add_indexes.sql does not exist" "names the file"
run status --dir "$F"
assert_eq 0 "$RC" "status still answers: $ERR"
assert_match "$OUT" "0005_add_indexes +missing" "the migration whose file is gone is missing"
assert_contains "$ERR" "warning: meta/_journal.json: entry \"0005_add_indexes\"" "and the journal's entry is warned about"
assert_not_contains "$ERR" "context" "no internal SQL context"
run drift --dir "$F" --json
assert_eq 1 "$RC" "drift --dir cannot compare with a folder missing a file: exit 1"
assert_eq False "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["ok"])' <<<"$OUT")" "and --json says ok: false"
assert_not_contains "$OUT" "Nothing was applied" "a drift applies nothing anyway: not said"
cp "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations/0005_add_indexes.sql" "$F/"

# a branch merged late: a new migration inserted before the last applied one
printf 'CREATE TABLE "late" ("id" integer);' >"$F/0007a_late_branch.sql"
python3 - "$F/meta/_journal.json" <<'PY'
import json, sys
p = sys.argv[1]; j = json.load(open(p))
j["entries"].insert(8, {"idx": 8, "version": "7", "when": 1795644744000, "tag": "0007a_late_branch", "breakpoints": True})
for i, e in enumerate(j["entries"]): e["idx"] = i
open(p, "w").write(json.dumps(j, indent=2))
PY
run migrate --dir "$F"
assert_eq 1 "$RC" "out of order: exit 1"
assert_contains "$ERR" "0007a_late_branch is pending but sorts before 0008_add_updated_at_trigger" "names both migrations"
assert_contains "$ERR" "--allow-out-of-order" "hint names the flag"

assert_eq "$before_schema" "$(schema_dump)" "schema unchanged by the refusals"
assert_eq "$before_history" "$(q 'SELECT tag, hash, applied_at FROM dbkit.migrations ORDER BY id')" "history unchanged"

run migrate --dir "$F" --allow-out-of-order
assert_eq 0 "$RC" "out of order allowed: exit 0"
assert_contains "$OUT" "0007a_late_branch" "the late migration is applied"
assert_eq "late" "$(q "SELECT relname FROM pg_class WHERE relname = 'late'")" "its table exists"
finish
