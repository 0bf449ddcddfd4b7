#!/usr/bin/env bash
# The client against a database whose extension is older than the client: a clear refusal
# naming both versions and the command that fixes it; `dbkit init` runs the update, the
# history made under 0.1.0 is kept, and the client then works.
source "$DBKIT_SRC/tests/e2e/lib.sh"

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS e2e_upgrade" -c "CREATE DATABASE e2e_upgrade"
export PGDATABASE=e2e_upgrade
q "CREATE EXTENSION dbkit VERSION '0.1.0'"
cp -r "$DBKIT_SRC/examples/migrations" "$WORK/m"

run status
assert_eq 3 "$RC" "a 0.1.0 extension is refused by a newer client (exit 3)"
assert_contains "$ERR" "is version 0.1.0, this client is version 0.2.0" "the refusal names both versions"
assert_contains "$ERR" "dbkit init" "the refusal gives the command that fixes it"
assert_contains "$ERR" "ALTER EXTENSION dbkit UPDATE" "the refusal gives the SQL that fixes it"

run migrate --dir "$WORK/m" --json
assert_eq 3 "$RC" "migrate is refused too, before anything runs"
kind=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["kind"])')
assert_eq extension_version "$kind" "--json names the error kind"
assert_eq 0 "$(q "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = 'users'")" "nothing was applied"

# history made under 0.1.0 (its SQL functions on the new library, as after a package upgrade)
first_only=$(python3 -c '
import json, sys
j = json.load(open(sys.argv[1] + "/meta/_journal.json"))
j["entries"] = j["entries"][:1]
sql = open(sys.argv[1] + "/0000_create_users.sql", encoding="utf-8").read()
print(json.dumps({"journal": json.dumps(j), "files": {"0000_create_users.sql": sql}}))' "$WORK/m")
echo "SELECT count(*) FROM dbkit_apply(:'folder'::jsonb)" | "${PSQL[@]}" -v folder="$first_only" >/dev/null
assert_eq 1 "$(q "SELECT count(*) FROM dbkit.migrations")" "history made under 0.1.0''s SQL"

run init
assert_eq 0 "$RC" "dbkit init updates the extension"
assert_contains "$OUT" "updated from 0.1.0 to 0.2.0" "init says what it did"
assert_eq 0.2.0 "$(q "SELECT extversion FROM pg_extension WHERE extname = 'dbkit'")" "the extension is at 0.2.0"

run status
assert_eq 0 "$RC" "status works after the update"
assert_contains "$OUT" "0000_create_users" "the 0.1.0 history is kept"

run migrate --dir "$WORK/m"
assert_eq 0 "$RC" "migrate applies the rest on top of the 0.1.0 history"
assert_eq 5 "$(q "SELECT count(*) FROM dbkit.migrations")" "history: the old row plus four new ones"

run init
assert_eq 0 "$RC" "init on a current extension is a no-op"
assert_contains "$OUT" "extension 0.2.0 ready" "init reports the version"
finish
