#!/usr/bin/env bash
# Issue 16, items 11 and 12.
# 11. dbkit drift on a folder without drizzle snapshots (with --dir, and without
#     --dir from a directory with src/db/migrations) still reports the live drift,
#     exit 4; the code's side is then what the folder's migrations build (issue 10:
#     the schema engine builds it), so a change by hand shows against both.
# 12. A role with exactly the grants README.md documents deploys with drizzle sync
#     on; a role without CREATE on the database gets dbkit's own error naming the
#     grant and --no-drizzle-sync, and --no-drizzle-sync then works.
source "$(dirname "$0")/lib.sh"
chmod 755 "$WORK"
ROLES=(dk_hg_deployer dk_hg_nodb)
DBS=(hdrift hdrift2 hgrants)
cleanup() {
	local r d
	for d in "${DBS[@]}"; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" 2>/dev/null || true; done
	for r in "${ROLES[@]}"; do "${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS $r" 2>/dev/null || true; done
	rm -rf "$WORK"
}
cleanup
trap cleanup EXIT

F=$WORK/proj/src/db/migrations
mkdir -p "$F/meta"
printf 'CREATE TABLE "t1" ("id" integer PRIMARY KEY);\n' >"$F/0000_a.sql"
printf 'CREATE TABLE "t2" ("id" integer PRIMARY KEY);\n' >"$F/0001_b.sql"
cat >"$F/meta/_journal.json" <<'JSON'
{"version":"7","dialect":"postgresql","entries":[
{"idx":0,"version":"7","when":1700000000000,"tag":"0000_a","breakpoints":true},
{"idx":1,"version":"7","when":1700000001000,"tag":"0001_b","breakpoints":true}]}
JSON

# ---------------------------------------------------------------------------
# item 11
# ---------------------------------------------------------------------------
fresh_db hdrift
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: migrate exits 0: $ERR"
run drift --dir "$F"
assert_eq 0 "$RC" "no drift, no snapshots: exit 0: $OUT $ERR"
assert_contains "$OUT" "the live schema matches the code in $F, as PostgreSQL builds it" "without snapshots the code's side is what the migrations build"
q 'ALTER TABLE t1 ADD COLUMN "sneaky" text'
run drift --dir "$F"
assert_eq 4 "$RC" "live drift, folder without snapshots: exit 4: $ERR"
assert_contains "$OUT" "between the live schema and what the migrations left" "the live drift is reported"
assert_contains "$OUT" "sneaky" "the drifted column is named"
assert_match "$OUT" "difference between the live schema and the code \\(migrations, built by PostgreSQL\\)" "and against the code's side, built from the migrations"
run drift --dir "$F" --json
assert_eq 4 "$RC" "--json: exit 4"
assert_eq "true|1|migrations" "$(python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
print("%s|%s|%s" % (str(j["drift"]).lower(), len(j["code"]), j["code_snapshot"]))' <<<"$OUT")" \
	"--json: drift true, one difference against the code, built from the migrations"
(
	cd "$WORK/proj"
	run drift
	assert_eq 4 "$RC" "without --dir, ./src/db/migrations without snapshots: exit 4: $ERR"
	assert_contains "$OUT" "sneaky" "without --dir: the live drift is reported"
	assert_contains "$OUT" "the code (migrations, built by PostgreSQL)" "without --dir: ./src/db/migrations is the code"
	exit "$FAILS"
) || FAILS=$((FAILS + $?))
# A snapshot that cannot be read is still a failure of the code side (exit 1 when no live drift).
q 'ALTER TABLE t1 DROP COLUMN "sneaky"'
run accept-drift --reason "test"
echo '{not json' >"$F/meta/0001_snapshot.json"
run drift --dir "$F"
assert_eq 1 "$RC" "an unreadable snapshot and no live drift: exit 1"
assert_contains "$OUT" "the comparison with the code is unavailable: meta/0001_snapshot.json: invalid JSON" "it says what is wrong with the snapshot"
rm "$F/meta/0001_snapshot.json"

# Same class: no reference recorded yet (DK008) no longer hides the comparison with the code.
fresh_db hdrift2
q 'CREATE TABLE by_hand (id int)'
run drift --dir "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations"
assert_eq 4 "$RC" "no recorded reference, folder with snapshots: the code side still runs, exit 4 (a table by hand): $ERR"
assert_contains "$OUT" "the comparison with what the migrations left is unavailable: no schema snapshot is recorded yet" "the live side says why it is unavailable"
assert_match "$OUT" "1 difference between the live schema and the code \\(meta/0008_snapshot.json, built by PostgreSQL\\)" "the comparison with the code is reported: one table by hand is one difference"
assert_match "$OUT" "the pending migrations build this \\(0000_initial_schema, .*0008_add_updated_at_trigger\\)" "what nothing applied yet is pending, not drift"
q 'DROP TABLE by_hand'
run drift --dir "$F"
assert_eq 1 "$RC" "no reference and no snapshots, nothing applied: nothing to compare, exit 1"
"${PSQL[@]}" -d postgres -c "DROP DATABASE hdrift2 WITH (FORCE)"

# ---------------------------------------------------------------------------
# item 12: the documented grants, exactly as README.md writes them
# ---------------------------------------------------------------------------
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS hgrants" -c "CREATE DATABASE hgrants"
"${PSQL[@]}" -d hgrants -c "CREATE EXTENSION dbkit"
"${PSQL[@]}" -d postgres -c "CREATE ROLE dk_hg_deployer LOGIN" -c "CREATE ROLE dk_hg_nodb LOGIN"
GRANTS=$(sed -n '/<!-- deploy-grants -->/,/<!-- \/deploy-grants -->/p' "$DBKIT_SRC/README.md" | grep -E '^\s*(GRANT|SELECT) ')
assert_eq 1 "$(grep -c dbkit_grant_deployer <<<"$GRANTS")" "README.md documents SELECT dbkit_grant_deployer('deployer')"
"${PSQL[@]}" -d hgrants -c "GRANT USAGE, CREATE ON SCHEMA public TO dk_hg_deployer, dk_hg_nodb" # what the migrations need
# dbkit's own grants without drizzle's (drizzle_schema NULL) and no CREATE on the database
"${PSQL[@]}" -d hgrants -c "SELECT count(*) FROM dbkit_grant_deployer('dk_hg_nodb', NULL)" >/dev/null

PGDATABASE=hgrants PGUSER=dk_hg_nodb run migrate --dir "$F"
assert_eq 1 "$RC" "without CREATE on the database, drizzle sync stops the deploy"
assert_contains "$ERR" "has no CREATE privilege on database" "the error names the missing privilege"
assert_contains "$ERR" "GRANT CREATE ON DATABASE hgrants TO dk_hg_nodb" "the error gives the GRANT that fixes it"
assert_contains "$ERR" "--no-drizzle-sync" "the error names --no-drizzle-sync"
assert_contains "$ERR" "42501" "with SQLSTATE 42501"
assert_eq "0|f" "$("${PSQL[@]}" -d hgrants -c "SELECT count(*), to_regclass('public.t1') IS NOT NULL FROM dbkit.migrations")" "nothing was applied"
PGDATABASE=hgrants PGUSER=dk_hg_nodb run migrate --dir "$F" --no-drizzle-sync
assert_eq 0 "$RC" "with --no-drizzle-sync the same role deploys: $ERR"

"${PSQL[@]}" -d hgrants -c "DROP TABLE t1, t2" -c "TRUNCATE dbkit.migrations, dbkit.snapshots, dbkit.events CASCADE"
"${PSQL[@]}" -d hgrants <<<"$(sed -e 's/\bdeployer\b/dk_hg_deployer/g' <<<"$GRANTS")" >/dev/null
PGDATABASE=hgrants PGUSER=dk_hg_deployer run migrate --dir "$F"
assert_eq 0 "$RC" "a role with exactly the documented grants deploys with drizzle sync on: $ERR"
assert_eq "2|2" "$("${PSQL[@]}" -d hgrants -c "SELECT (SELECT count(*) FROM dbkit.migrations), (SELECT count(*) FROM drizzle.__drizzle_migrations)")" \
	"history and drizzle's table both have the two migrations"
PGDATABASE=hgrants PGUSER=dk_hg_deployer run migrate --dir "$F"
assert_eq 0 "$RC" "the documented role's next deploy finds nothing to do"
PGDATABASE=hgrants PGUSER=dk_hg_deployer run mark-applied 0001_b --dir "$F" --reason test
assert_contains "$ERR" "already applied" "the documented role can run repairs (refused only because it is applied)"
"${PSQL[@]}" -d hgrants -c "DROP OWNED BY dk_hg_deployer, dk_hg_nodb" >/dev/null
finish
