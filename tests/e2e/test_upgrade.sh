#!/usr/bin/env bash
# The client against a database whose extension is older than the client: a clear refusal
# naming both versions and the command that fixes it; `dbkit init` runs the update, and
# the client then works. (regress/sql/upgrade.sql checks that history survives the update.)
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

# SQL callers get the same refusal from the library, with the fix
err=$("${PSQL[@]}" -c "SELECT count(*) FROM dbkit_drift()" 2>&1 || true)
assert_contains "$err" "the dbkit library is version 0.2.0, but the extension's SQL objects in this database are version 0.1.0" \
	"a dbkit function called from SQL names both versions"
assert_contains "$err" "ALTER EXTENSION dbkit UPDATE" "and the command that fixes it"
q "CREATE TABLE kept_through_update (id int)"
# 0.1.0's library kept a user mapping's password in the audit (an attack); rows as it
# wrote them: the update scrubs them
q "INSERT INTO dbkit.ddl_audit (event, command_tag, object_type, object_identity, statement)
   VALUES ('ddl_command_end', 'CREATE USER MAPPING', 'user mapping', 'postgres on server up_server',
           'CREATE USER MAPPING FOR CURRENT_USER SERVER up_server OPTIONS (user ''ro'', password ''S3cr3t-Pa55'')'),
          ('ddl_command_end', 'CREATE TABLE', 'table', 'public.t', 'CREATE TABLE t (id int); ALTER ROLE app PASSWORD ''S3cr3t-2''')"
# a reference stored by 0.1.0 (its dbkit.snapshot(), which had no identity options)
# that matches the live schema, an identity with options in it: the update stores a
# format-2 reference at once, and the identity is not drift
q "CREATE TABLE ids (id integer GENERATED ALWAYS AS IDENTITY (START WITH 5 INCREMENT BY 3) PRIMARY KEY)"
q "INSERT INTO dbkit.snapshots (run_id, tag, fingerprint, catalog_fingerprint, snapshot)
   SELECT NULL, NULL, md5(s::text), dbkit.catalog_fingerprint(), s FROM dbkit.snapshot() s"

run init
assert_eq 0 "$RC" "dbkit init updates the extension"
assert_contains "$OUT" "updated from 0.1.0 to 0.2.0" "init says what it did"
assert_eq 0.2.0 "$(q "SELECT extversion FROM pg_extension WHERE extname = 'dbkit'")" "the extension is at 0.2.0"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.ddl_audit WHERE statement LIKE '%S3cr3t%'")" "the update scrubbed the password 0.1.0's audit kept"

run status
assert_eq 0 "$RC" "status works after the update"
assert_eq 1 "$(q "SELECT count(*) FROM dbkit.events WHERE action = 'upgrade-snapshot'")" \
	"the clean 0.1.0 reference was replaced by a format-2 one at the update"
assert_eq '{"max": 2147483647, "min": 1, "cache": 1, "cycle": false, "start": 5, "sequence": "ids_id_seq", "increment": 3}' \
	"$(q "SELECT snapshot -> 'column:public.ids.id' -> 'identity_options' FROM dbkit.snapshots ORDER BY id DESC LIMIT 1")" \
	"the new reference holds the identity's sequence options"
run drift
assert_eq 0 "$RC" "no drift right after the update (identity options are no change): ${OUT:0:2000} ${ERR:0:1000}"

run migrate --dir "$WORK/m"
assert_eq 0 "$RC" "migrate works after the update"
assert_eq 5 "$(q "SELECT count(*) FROM dbkit.migrations")" "history: the five example migrations"
assert_eq 1 "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'kept_through_update'")" "the database's own tables are untouched"

q "ALTER TABLE ids ALTER COLUMN id SET INCREMENT BY 4"
run drift
assert_contains "$OUT" "identity options: increment 3 -> 4" "an identity option changed by hand is drift"
run init
assert_eq 0 "$RC" "init on a current extension is a no-op"
assert_contains "$OUT" "extension 0.2.0 ready" "init reports the version"

# A non-transactional migration 0.1.0 stopped at statement 3 (attack 7): its progress row
# holds the file's sha256, no statement hashes. A resume after the update with an earlier,
# already-run statement edited is refused (it was recorded as applied, exit 0, the edited
# statement never run); the file as it ran resumes.
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS e2e_upgrade_resume" -c "CREATE DATABASE e2e_upgrade_resume"
export PGDATABASE=e2e_upgrade_resume
q "CREATE EXTENSION dbkit VERSION '0.1.0'"
R="$WORK/resume"
mkdir -p "$R"
printf -- '-- dbkit:no-transaction\nCREATE TABLE "a" ("id" integer PRIMARY KEY, "email" text);\n--> statement-breakpoint\nCREATE TABLE "audit_log" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "a_email" ON "a" ("emial");\n' >"$R/0000_a.sql"
write_journal "$R" 0000_a
H=$(sha256sum "$R/0000_a.sql" | cut -d' ' -f1)
# what 0.1.0's non-transactional run left: statements 1 and 2 ran, 3 failed (0.1.0's progress columns)
q 'CREATE TABLE "a" ("id" integer PRIMARY KEY, "email" text)' >/dev/null
q 'CREATE TABLE "audit_log" ("id" integer PRIMARY KEY)' >/dev/null
q "INSERT INTO dbkit.progress (tag, hash, idx, created_at, statements, next_statement, status, error)
   VALUES ('0000_a', '$H', 0, 1700000000000, 3, 3, 'failed', 'column \"emial\" does not exist')" >/dev/null
q "ALTER EXTENSION dbkit UPDATE"
cp "$R/0000_a.sql" "$WORK/0000_a.as_ran"
sed -i 's/"audit_log" ("id" integer PRIMARY KEY)/"events" ("id" integer PRIMARY KEY)/; s/"emial"/"email"/' "$R/0000_a.sql"
run migrate --dir "$R" --resume
assert_eq 1 "$RC" "a 0.1.0 run resumed with a statement that ran edited: refused"
assert_contains "$ERR" "its run stopped under dbkit 0.1.0" "the refusal says why it cannot check statement by statement"
assert_contains "$ERR" "Restore 0000_a.sql as it ran" "and what to do"
assert_contains "$ERR" "DK009" "SQLSTATE DK009"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations")" "nothing recorded"
assert_eq "$H" "$(q "SELECT hash FROM dbkit.progress WHERE tag = '0000_a'")" "the progress row still holds the file as it ran"
sed 's/"emial"/"email"/' "$WORK/0000_a.as_ran" >"$R/0000_a.sql"
run migrate --dir "$R" --resume
assert_eq 1 "$RC" "only statement 3 fixed: still not the file that ran (0.1.0 kept the whole file's hash)"
# the file as it ran, with the column its statement 3 names made by hand
cp "$WORK/0000_a.as_ran" "$R/0000_a.sql"
q "ALTER TABLE a RENAME COLUMN email TO emial" >/dev/null
run migrate --dir "$R" --resume
assert_eq 0 "$RC" "the file as it ran resumes at statement 3: ${ERR:0:1500}"
assert_eq "0000_a" "$(q "SELECT tag FROM dbkit.migrations")" "recorded once it ran"
finish
