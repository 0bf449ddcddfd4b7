#!/usr/bin/env bash
# README promises that no other test asserted (issue 18, item 2); tests/README-promises.md
# maps every README section to its tests.
#  - drift against the code on the fixture's 9 real drizzle-kit snapshots;
#  - the documented minimal deploy grants are enough, and nothing less;
#  - the extension installed in a schema of its own, found by the client;
#  - a deadlock is retried; the retry backs off exponentially with jitter; the sessions
#    holding a migration's tables are reported before it runs;
#  - --statement-timeout and the per-migration marker -- dbkit:statement_timeout=...
# (The client dying mid-run is tests/faults/fault_d_kill_client.sh; the default 5 s lock
# timeout is tests/faults/fault_g_cancel.sh, case lock_timeout/default-5s.)
source "$(dirname "$0")/lib.sh"
FIX=$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations
chmod 755 "$WORK"
ROLES=(dk_deployer dk_deployer_less)
DBS=(prom_drift prom_grants prom_schema prom_deadlock prom_backoff prom_stmt)
cleanup() {
	local d r
	for d in "${DBS[@]}"; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" 2>/dev/null || true; done
	for r in "${ROLES[@]}"; do "${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS $r" 2>/dev/null || true; done
}
cleanup
E2E_CLEANUP+=(cleanup)
E2E_CLEANUP+=('for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done')

# meta/_journal.json for the NNNN_*.sql files of a folder, in name order.
###############################################################################
case_begin drift-code/real-snapshots
# README (Use): dbkit drift compares the live schema "against the code (the newest drizzle
# snapshot)". The fixture is drizzle-kit's own output: 9 migrations, 9 snapshots.
fresh_db prom_drift
run migrate --dir "$FIX"
assert_eq 0 "$RC" "the fixture applies"
run drift --dir "$FIX"
assert_eq 0 "$RC" "dbkit drift --dir on the fixture just applied: exit 0"
assert_eq "dbkit drift: the live schema is what the migrations left
dbkit drift: the live schema matches the code in $FIX, as PostgreSQL builds it" "$OUT" \
	"no drift and no false positive; the hand-written 0008 (a function and two triggers no drizzle snapshot can declare) is no difference with the snapshot either"
# the code moves ahead of the database: a column declared in the newest snapshot only
C=$WORK/code
copy_fixture "$FIX" "$C"
python3 - "$C/meta/0008_snapshot.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["tables"]["public.users"]["columns"]["nickname"] = {"name": "nickname", "type": "text", "primaryKey": False, "notNull": False}
json.dump(j, open(sys.argv[1], "w"), indent=2)
PY
run drift --dir "$C"
assert_eq 0 "$RC" "a column only the newest snapshot declares, which no migration builds: the folder's finding, not drift (exit 0)"
assert_match "$OUT" "removed +column +public\.users\.nickname +column public\.users\.nickname is declared in the snapshot but no migration builds it" \
	"the column only the snapshot declares is named, apart from drift"
# a change made outside the migrations shows against both
q 'ALTER TABLE "users" ADD COLUMN "nickname" text'
run drift --dir "$FIX"
assert_eq 4 "$RC" "a column added by hand: exit 4"
assert_match "$OUT" "added +column +public\.users\.nickname +column public\.users\.nickname exists but no migration created it" \
	"against the migrations: added, with its audit entry"
assert_contains "$OUT" "dbkit drift: 1 difference between the live schema and the code (meta/0008_snapshot.json, built by PostgreSQL):" "reported against the code, naming the newest snapshot"
assert_eq 2 "$(grep -cE 'added +column +public\.users\.nickname' <<<"$OUT")" "against the code too: the hand-made column, once per comparison"
run drift --dir "$C"
assert_eq 4 "$RC" "the hand-made column is what the code declares: still drift against the migrations (exit 4)"
assert_contains "$OUT" "the live schema matches the code in $C, as PostgreSQL builds it" "and no difference from the code"

###############################################################################
case_begin privileges/minimal-deploy-grants
# README (Privileges and safety): deploying needs the rights the migrations need plus
# what SELECT dbkit_grant_deployer('role') grants, and nothing less. Here the migrations
# need CREATE on schema public; drizzle's table was created by the superuser's run below.
fresh_db prom_grants
F=$WORK/grants
mkdir -p "$F"
printf 'CREATE TABLE "g1" ("id" integer PRIMARY KEY);\n' >"$F/0000_g1.sql"
write_journal "$F"
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: the superuser applies 0000_g1 (creates drizzle's table)"
printf 'CREATE TABLE "g2" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO "g2" VALUES (1);\n' >"$F/0001_g2.sql"
write_journal "$F"
"${PSQL[@]}" -d postgres -c "CREATE ROLE dk_deployer LOGIN" -c "CREATE ROLE dk_deployer_less LOGIN" \
	-c "GRANT CONNECT ON DATABASE prom_grants TO dk_deployer, dk_deployer_less"
for r in dk_deployer dk_deployer_less; do
	q "GRANT USAGE, CREATE ON SCHEMA public TO $r"
	q "SELECT count(*) FROM dbkit_grant_deployer('$r')" >/dev/null
done
# one right less: no DELETE on dbkit's tables
q "REVOKE DELETE ON ALL TABLES IN SCHEMA dbkit FROM dk_deployer_less"
# the grants on public and drizzle's schema are schema changes drift reports: reviewed
q "SELECT count(*) FROM dbkit_accept_drift('grants for the deployers')" >/dev/null
# drizzle's table is owned by the superuser: the deployer must act as its owner (README:
# dbkit refuses a drizzle table owned by a role the deploying role does not act as)
q "ALTER TABLE drizzle.__drizzle_migrations OWNER TO dk_deployer"
PGUSER=dk_deployer run migrate --dir "$F"
assert_eq 0 "$RC" "with exactly the documented grants, dbkit migrate exits 0 ($ERR)"
assert_eq "0000_g1,0001_g2" "$(q "SELECT string_agg(tag, ',' ORDER BY id) FROM dbkit.migrations")" "the migration is recorded"
assert_eq dk_deployer "$(q "SELECT applied_by FROM dbkit.migrations WHERE tag = '0001_g2'")" "recorded as applied by the deployer"
PGUSER=dk_deployer run status --dir "$F"
assert_eq 0 "$RC" "dbkit status as the deployer: exit 0"
PGUSER=dk_deployer run drift
assert_eq 0 "$RC" "dbkit drift as the deployer: exit 0, no drift"
PGUSER=dk_deployer run forget 0001_g2 --reason "grants test"
assert_eq 0 "$RC" "dbkit forget as the deployer: exit 0 (repairs need the same grants)"
PGUSER=dk_deployer run mark-applied 0001_g2 --dir "$F" --reason "grants test"
assert_eq 0 "$RC" "dbkit mark-applied as the deployer: exit 0"
# and nothing less: without DELETE, a run is refused and nothing is left
printf 'CREATE TABLE "g3" ("id" integer PRIMARY KEY);\n' >"$F/0002_g3.sql"
write_journal "$F"
# (--no-drizzle-sync: drizzle's table belongs to dk_deployer, which this role does not act as)
PGUSER=dk_deployer_less run migrate --dir "$F" --no-drizzle-sync
assert_eq 1 "$RC" "without DELETE on dbkit's tables, dbkit migrate exits 1"
assert_contains "$ERR" "permission denied" "without DELETE: permission denied"
assert_eq "0000_g1,0001_g2" "$(q "SELECT string_agg(tag, ',' ORDER BY id) FROM dbkit.migrations")" "without DELETE: the history is unchanged"
assert_eq "" "$(q "SELECT to_regclass('public.g3')")" "without DELETE: nothing applied"

###############################################################################
case_begin privileges/extension-in-own-schema
# README: install the extension in a schema of its own (CREATE EXTENSION dbkit SCHEMA
# dbkit_api); the client finds it wherever it is, on the search path or not.
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS prom_schema" -c "CREATE DATABASE prom_schema"
export PGDATABASE=prom_schema
q "CREATE SCHEMA dbkit_api; CREATE EXTENSION dbkit SCHEMA dbkit_api"
assert_eq dbkit_api "$(q "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'dbkit'")" "dbkit is installed in dbkit_api"
assert_eq "" "$(q "SELECT string_agg(p.proname, ',') FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'dbkit%'")" \
	"no dbkit function in public"
F=$WORK/own
copy_fixture "$DBKIT_SRC/tests/check-corpus/base/migrations" "$F"
run migrate --dir "$F"
assert_eq 0 "$RC" "dbkit_api not on the search path: dbkit migrate exits 0 ($ERR)"
assert_contains "$OUT" "applied 3 migrations" "dbkit_api not on the search path: the migrations are applied"
run status --dir "$F"
assert_eq 0 "$RC" "dbkit_api not on the search path: status exits 0"
assert_contains "$OUT" "3 applied" "status finds the history"
run drift --dir "$F"
assert_eq 0 "$RC" "dbkit_api not on the search path: drift (migrations and code) exits 0 ($ERR)"
run check --dir "$F"
assert_eq 0 "$RC" "dbkit_api not on the search path: check exits 0"
run forget 0002_add_widget_name_idx --reason "own schema test"
assert_eq 0 "$RC" "dbkit_api not on the search path: forget exits 0"
q "ALTER DATABASE prom_schema SET search_path = dbkit_api, public"
run mark-applied 0002_add_widget_name_idx --dir "$F" --reason "own schema test"
assert_eq 0 "$RC" "dbkit_api on the search path: mark-applied exits 0"
assert_eq 3 "$(q "SELECT count(*) FROM dbkit_api.dbkit_status()")" "dbkit_api.dbkit_status() has the three migrations"

###############################################################################
case_begin locks/deadlock-retry-and-holders-warning
# README (Lock safety): on a deadlock the whole run is rolled back and retried; each
# retry names the sessions holding the locks; before a migration runs, sessions already
# holding locks on its tables are reported.
# A holder session has table b (ACCESS SHARE) before the run. Migration 0001 alters a,
# then b: it waits for b holding a. The holder then reads a: a deadlock. The client's
# session checks for deadlocks after 10 s (the holder's after 60 s), so dbkit's run is
# the one PostgreSQL cancels: it rolls back, backs off, and succeeds once the holder
# has committed. (The holder's read must start within those seconds: 10 s, so that a
# loaded machine still makes it; the first 3 s of the check do not help a slow one.)
fresh_db prom_deadlock
F=$WORK/dl
mkdir -p "$F"
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nCREATE TABLE "b" ("id" integer PRIMARY KEY);\n' >"$F/0000_ab.sql"
write_journal "$F"
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: a and b"
printf 'ALTER TABLE "a" ADD COLUMN "x" integer;\n--> statement-breakpoint\nALTER TABLE "b" ADD COLUMN "y" integer;\n' >"$F/0001_ab.sql"
write_journal "$F"
mkfifo "$WORK/holder.in"
PGAPPNAME=dbkit_e2e_deadlock_holder "${PSQL[@]}" <"$WORK/holder.in" >"$WORK/holder.out" 2>&1 &
holder_job=$!
exec 7>"$WORK/holder.in"
echo "SET deadlock_timeout = '60s'; BEGIN; LOCK TABLE b IN ACCESS SHARE MODE;" >&7
wait_until 60 "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid) WHERE s.application_name = 'dbkit_e2e_deadlock_holder'
	AND l.relation = 'public.b'::regclass AND l.granted" >/dev/null || fail "the holder never locked b"
PGOPTIONS="-c deadlock_timeout=10s" "$DBKIT" migrate --dir "$F" --lock-timeout 60s --lock-retries 3 >"$WORK/dl.out" 2>"$WORK/dl.err" &
migrate_job=$!
if wait_until 60 "SELECT count(*) FROM pg_locks WHERE relation = 'public.b'::regclass AND NOT granted" >/dev/null; then
	pass "dbkit's run waits for b, holding a"
	echo "SELECT count(*) FROM a; COMMIT;" >&7
else
	fail "dbkit's run never waited for b"
	echo "COMMIT;" >&7
fi
exec 7>&-
wait "$holder_job" || true
set +e
wait "$migrate_job"
RC=$?
set -e
OUT=$(cat "$WORK/dl.out") ERR=$(cat "$WORK/dl.err")
assert_eq 0 "$RC" "after the deadlock, the retried run exits 0 ($ERR)"
assert_contains "$ERR" "deadlock detected" "the retry warning says deadlock detected"
assert_contains "$ERR" "retried from its first migration, retry 1 of 3" "the whole run is retried"
assert_contains "$ERR" "migration 0001_ab needs locks on tables that other sessions hold" "before 0001_ab ran, the sessions holding its tables were reported"
assert_match "$ERR" "pid [0-9]+ \\(dbkit_e2e_deadlock_holder, [^)]*\\) holds public\\.b AccessShareLock" "the report names the holder, its table and lock mode"
assert_eq "id,x|id,y" "$(q "SELECT (SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'a') || '|' ||
	(SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'b')")" "0001_ab applied once"
assert_eq 1 "$(q "SELECT (detail->>'lock_retries')::int FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")" "the event records 1 retry"

###############################################################################
case_begin locks/backoff-with-jitter
# README: retried "after an exponential backoff with jitter". dbkit_apply's first delay
# is 500 ms; retry k waits 500 * 2^(k-1) ms plus a random 0..500 ms. A holder keeps the
# table for the whole run (--lock-timeout 100ms, 3 retries): every retry is reported
# with its delay; the run then gives up.
fresh_db prom_backoff
F=$WORK/bo
mkdir -p "$F"
printf 'CREATE TABLE "t" ("id" integer PRIMARY KEY);\n' >"$F/0000_t.sql"
write_journal "$F"
run migrate --dir "$F"
printf 'ALTER TABLE "t" ADD COLUMN "b" integer;\n' >"$F/0001_t_b.sql"
write_journal "$F"
jitters=()
for attempt in 1 2; do
	PGAPPNAME=dbkit_e2e_backoff_holder "${PSQL[@]}" -c "BEGIN" -c "LOCK TABLE t IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
	holder_job=$!
	wait_until 60 "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid) WHERE s.application_name = 'dbkit_e2e_backoff_holder'
		AND l.relation = 'public.t'::regclass AND l.granted" >/dev/null || fail "the holder never locked t"
	run migrate --dir "$F" --lock-timeout 100ms --lock-retries 3
	q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dbkit_e2e_backoff_holder'" >/dev/null
	wait "$holder_job" 2>/dev/null || true
	assert_eq 1 "$RC" "run $attempt: the lock outlasts 3 retries: exit 1"
	assert_contains "$ERR" "gave up after 3 retries" "run $attempt: gives up after 3 retries"
	delays=$(grep -o 'retry [0-9] of 3 in [0-9]* ms' <<<"$ERR" | awk '{print $2 ":" $6}' | tr '\n' ' ')
	ok=1 j=
	for k in 1 2 3; do
		d=$(grep -o "retry $k of 3 in [0-9]* ms" <<<"$ERR" | awk '{print $6}' | head -1)
		base=$((500 * (1 << (k - 1))))
		if [[ -z $d ]] || ((d < base || d > base + 500)); then ok=; fi
		j+="$((${d:-0} - base)) "
	done
	if [[ -n $ok ]]; then pass "run $attempt: retry k waits 500*2^(k-1) ms + 0..500 ms of jitter: $delays"; else
		fail "run $attempt: retry delays are not 500*2^(k-1) + 0..500 ms: [$delays] in: $ERR"
	fi
	jitters+=("$j")
done
# the jitter is random: two runs with three retries each draw the same six values with
# probability 501^-6
if [[ ${jitters[0]} != "${jitters[1]}" ]]; then pass "the jitter differs between runs (${jitters[0]}/ ${jitters[1]})"; else
	fail "the same jitter in two runs: ${jitters[0]}"
fi
assert_eq "0000_t" "$(q "SELECT string_agg(tag, ',' ORDER BY id) FROM dbkit.migrations")" "nothing of the failed runs recorded"

###############################################################################
case_begin timeouts/statement-timeout
# README: --statement-timeout (or -- dbkit:statement_timeout=10min) bounds each statement.
# Non-transactional migrations (the client runs each statement at top level):
fresh_db prom_stmt
F=$WORK/st
mkdir -p "$F"
printf 'CREATE TABLE "s" ("id" integer PRIMARY KEY);\n' >"$F/0000_s.sql"
write_journal "$F"
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: table s"
printf -- '-- dbkit:no-transaction\nALTER TABLE "s" ADD COLUMN "b" integer;\n--> statement-breakpoint\nSELECT pg_sleep(30);\n' >"$F/0001_slow.sql"
write_journal "$F"
run migrate --dir "$F" --statement-timeout 1s
assert_eq 1 "$RC" "non-transactional, --statement-timeout 1s with a 30 s statement: exit 1"
assert_contains "$ERR" "0001_slow" "names the migration"
assert_contains "$ERR" "canceling statement due to statement timeout" "PostgreSQL's statement timeout"
assert_eq "0000_s" "$(q "SELECT string_agg(tag, ',' ORDER BY id) FROM dbkit.migrations")" "the timed-out migration is not recorded"
run forget 0001_slow --reason "statement timeout test" >/dev/null 2>&1 || true
q "DELETE FROM dbkit.progress" >/dev/null
q 'ALTER TABLE s DROP COLUMN IF EXISTS b'

case_begin timeouts/statement-timeout-marker
printf -- '-- dbkit:no-transaction\n-- dbkit:statement_timeout=1s\nALTER TABLE "s" ADD COLUMN "b" integer;\n--> statement-breakpoint\nSELECT pg_sleep(30);\n' >"$F/0001_slow.sql"
run migrate --dir "$F"
assert_eq 1 "$RC" "non-transactional, marker statement_timeout=1s, no flag: exit 1"
assert_contains "$ERR" "canceling statement due to statement timeout" "marker 1s: statement timeout"
q "DELETE FROM dbkit.progress" >/dev/null
q 'ALTER TABLE s DROP COLUMN IF EXISTS b'
# the marker beats the flag
printf -- '-- dbkit:no-transaction\n-- dbkit:statement_timeout=30s\nALTER TABLE "s" ADD COLUMN "b" integer;\n--> statement-breakpoint\nSELECT pg_sleep(2);\n' >"$F/0001_slow.sql"
run migrate --dir "$F" --statement-timeout 500ms
assert_eq 0 "$RC" "marker statement_timeout=30s beats --statement-timeout 500ms: a 2 s statement completes ($ERR)"
assert_eq "id,b" "$(q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 's'")" "marker 30s: applied"

case_begin timeouts/statement-timeout-transactional
# In a transactional migration the timeout is a SET LOCAL inside the running dbkit_apply()
# statement; PostgreSQL arms statement_timeout only when a top-level statement starts, so
# dbkit arms it around each statement itself: a 3 s statement under --statement-timeout 1s
# is cancelled, and the run rolls back.
printf 'ALTER TABLE "s" ADD COLUMN "c" integer;\n--> statement-breakpoint\nSELECT pg_sleep(3);\n' >"$F/0002_slow_tx.sql"
write_journal "$F"
run migrate --dir "$F" --statement-timeout 1s
assert_eq 1 "$RC" "transactional: --statement-timeout 1s stops a 3 s statement"
assert_contains "$ERR" "canceling statement due to statement timeout" "transactional: PostgreSQL's timeout message"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations WHERE tag = '0002_slow_tx'")" "transactional: nothing recorded"
finish
