#!/usr/bin/env bash
# (i) The server's lock table is full (SQLSTATE 53200, "out of shared memory": a
# transaction holds a lock on every table it touches until it ends, and the table has
# max_locks_per_transaction x max_connections slots). A migration touching more tables
# than that is not wrong: the error must say so and what to do (--transaction each,
# split the file, raise the setting), not "Fix the file"; nothing is applied.
# Found by an attack (max_locks_per_transaction = 10, max_connections = 10).
export PG_CLUSTER_OPTS="-c max_locks_per_transaction=10 -c max_connections=10"
source "$(dirname "$0")/lib.sh"
fault_start
case_begin "lock table full"
q "CREATE EXTENSION dbkit"
d=$WORK/many
mkdir -p "$d/meta"
for i in 0 1; do
	: >"$d/000${i}_m$i.sql"
	for t in $(seq 1 150); do
		printf 'CREATE TABLE "m%s_t%s" ("id" integer);\n--> statement-breakpoint\n' "$i" "$t" >>"$d/000${i}_m$i.sql"
	done
	printf 'SELECT 1;\n' >>"$d/000${i}_m$i.sql"
done
printf '{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1,"tag":"0000_m0","breakpoints":true},{"idx":1,"version":"7","when":2,"tag":"0001_m1","breakpoints":true}]}' >"$d/meta/_journal.json"
set +e
"$DBKIT" migrate --dir "$d" >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
err=$(cat "$WORK/err")
assert_eq 1 "$rc" "lock table full: exit 1"
assert_contains "$err" "out of shared memory" "lock table full: PostgreSQL's message"
assert_contains "$err" "A transaction holds a lock on every table it touches until it ends" "lock table full: says why"
assert_contains "$err" "--transaction each" "lock table full: says what to do"
[[ $err != *"Fix 0000_m0.sql and run"* ]] && pass "lock table full: the file is not blamed" || fail "lock table full: the file is blamed: $err"
assert_eq 0 "$(q "SELECT count(*) FROM pg_tables WHERE tablename ~ '^m[01]_t'")" "lock table full: nothing applied"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations")" "lock table full: nothing recorded"
# each migration in its own transaction fits (150 tables each): what the hint says works
set +e
"$DBKIT" migrate --dir "$d" --transaction each >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
assert_eq 0 "$rc" "lock table full: --transaction each applies: $(cat "$WORK/err")"
assert_eq 300 "$(q "SELECT count(*) FROM pg_tables WHERE tablename ~ '^m[01]_t'")" "lock table full: every table created"
# the shadow builds every migration in one transaction: the same lock table, said the same way
set +e
"$DBKIT" drift --dir "$d" >"$WORK/out" 2>"$WORK/err"
set -e
out=$(cat "$WORK/out" "$WORK/err")
assert_contains "$out" "out of shared memory" "lock table full: drift --dir's shadow hits it too"
assert_contains "$out" "Nothing in the sources needs fixing: the shadow builds them all in one transaction" "lock table full: the shadow says it is not the sources'"
fault_finish "a lock table too small for one deploy: exit 1, says why and what to do, nothing applied; --transaction each then applies; the shadow says the same"
