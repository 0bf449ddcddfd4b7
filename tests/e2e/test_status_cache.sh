#!/usr/bin/env bash
# Issue 14 item 3: `dbkit status --dir` answered from the caches (client/hash_cache,
# dbkit.status_results) gives the answer the uncached path gives, and never a stale
# one: an edit in the same second, a migrate, a forget, a rollback, the history or
# drizzle's table changed by hand all lead to a fresh answer. A monitoring role gets
# the right answers and cannot store one.
source "$(dirname "$0")/lib.sh"
export XDG_CACHE_HOME=$WORK/xdg-cache
m=$WORK/m
mkdir -p "$m"
printf 'CREATE TABLE "a" ("id" integer);' >"$m/0000_a.sql"
printf 'DROP TABLE "a";' >"$m/0000_a.down.sql"
printf 'CREATE TABLE "b" ("id" integer);' >"$m/0001_b.sql"
printf 'DROP TABLE "b";' >"$m/0001_b.down.sql"
printf 'CREATE TABLE "c" ("id" integer);' >"$m/0002_c.sql"
printf 'DROP TABLE "c";' >"$m/0002_c.down.sql"
write_journal "$m" 0000_a 0001_b
fresh_db e2e_status_cache
run migrate --dir "$m"
assert_eq 0 "$RC" "setup: 0000_a and 0001_b applied"
write_journal "$m" 0000_a 0001_b 0002_c

stored() { q "SELECT count(*) || ' ' || coalesce(max(at)::text, '-') FROM dbkit.status_results"; }
# status_same LABEL [json|text]: the cached path's answer is the uncached one's
status_same() {
	local label=$1 mode=${2:-json} flag=--json
	[[ $mode == json ]] || flag=
	DBKIT_NO_CACHE=1 run status --dir "$m" --all $flag
	assert_eq 0 "$RC" "$label: uncached status exits 0"
	local want=$OUT
	run status --dir "$m" --all $flag
	assert_eq 0 "$RC" "$label: cached status exits 0"
	assert_eq "$want" "$OUT" "$label: the answer equals the uncached one"
	CACHED=$OUT
}

case_begin "status_cache/hit equals uncached"
status_same "first run (a miss, stored)"
assert_eq 1 "$(q 'SELECT count(*) FROM dbkit.status_results')" "the answer is stored"
ls "$XDG_CACHE_HOME"/dbkit/hashes-* >/dev/null && pass "the hash cache lives under XDG_CACHE_HOME" || fail "no hash cache file"
before=$(stored)
status_same "second run (a hit)"
assert_eq "$before" "$(stored)" "a hit stores nothing"
status_same "text output" text
assert_contains "$CACHED" "1 pending" "text: 0002_c pending"
# the text view without --all reads the rows it prints, stored beside the answer
DBKIT_NO_CACHE=1 run status --dir "$m"
want=$OUT
run status --dir "$m"
assert_eq "$want" "$OUT" "text view: the stored summary prints what the uncached path prints"
assert_eq '3 20 {1,2,3} {"applied": 2, "pending": 1}' \
	"$(q "SELECT total || ' ' || recent || ' ' || shown::text || ' ' || counts::text FROM dbkit.status_results")" \
	"the summary is stored with the answer: every row of 3, with the count of each state"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit_status_cached_summary(repeat('0', 64))")" "an unknown digest: no rows (a miss)"
[[ -z $(find "$m" -newer "$m/meta/_journal.json" -name '*cache*') ]] && pass "nothing written in the folder" || fail "cache written in the folder"
run status --dir "$m" --no-cache --json
assert_eq 0 "$RC" "--no-cache works"

case_begin "status_cache/edit in the same second"
status_same "warm"
cp "$m/0001_b.sql" "$WORK/b.orig"
printf 'CREATE TABLE "B" ("id" integer);' >"$m/0001_b.sql"  # same size, at once
run status --dir "$m" --all --json
assert_contains "$OUT" '"state": "modified"' "an in-place edit of an applied migration is reported modified"
status_same "after the edit"
# replaced by a file of the same size with the old mtime (touch -r): a new inode
printf 'CREATE TABLE "b" ("id" integer);' >"$WORK/b.new"
touch -r "$m/0001_b.sql" "$WORK/b.new"
mv "$WORK/b.new" "$m/0001_b.sql"
run status --dir "$m" --all --json
assert_not_contains "$OUT" '"state": "modified"' "the original back (same size, same mtime, new inode): not modified"
status_same "after the replace"

case_begin "status_cache/migrate forget rollback"
status_same "warm"
run migrate --dir "$m"
assert_eq 0 "$RC" "migrate applies 0002_c"
status_same "after migrate"
assert_not_contains "$CACHED" '"state": "pending"' "nothing pending after migrate"
run rollback --dir "$m" --steps 1 --reason "status cache test"
assert_eq 0 "$RC" "rollback 0002_c"
status_same "after rollback"
assert_contains "$CACHED" '"state": "pending"' "0002_c pending again"
run migrate --dir "$m"
assert_eq 0 "$RC" "0002_c applied again"
status_same "after migrate again"
run forget 0002_c --reason "status cache test"
assert_eq 0 "$RC" "forget 0002_c"
status_same "after forget"

case_begin "status_cache/history and drizzle changed by hand"
status_same "warm"
q "UPDATE dbkit.migrations SET hash = 'deadbeef' WHERE tag = '0000_a'"
status_same "after UPDATE of a hash"
assert_contains "$CACHED" '"state": "modified"' "the hand-edited hash shows as modified"
q "UPDATE dbkit.migrations SET hash = '$(sha256sum <"$m/0000_a.sql" | cut -d' ' -f1)' WHERE tag = '0000_a'"
status_same "hash restored"
q "UPDATE dbkit.migrations SET applied_at = '2001-02-03 04:05:06+00' WHERE tag = '0001_b'"
status_same "after UPDATE of applied_at (read by the answer only, not by the plan)"
assert_contains "$CACHED" '2001-02-03 04:05:06' "the new applied_at is shown"
q "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('$(sha256sum <"$m/0002_c.sql" | cut -d' ' -f1)', 1795644700002)"
status_same "after a row inserted in drizzle's table"
assert_contains "$CACHED" '"state": "adoptable"' "0002_c recorded by drizzle: adoptable"

case_begin "status_cache/monitoring role"
"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS dk_sc_monitor" -c "CREATE ROLE dk_sc_monitor LOGIN IN ROLE pg_monitor" \
	-c "GRANT CONNECT ON DATABASE e2e_status_cache TO dk_sc_monitor"
# drizzle's table is the deployer's; a monitoring role is let read it (status reads it)
q "GRANT USAGE ON SCHEMA drizzle TO dk_sc_monitor; GRANT SELECT ON drizzle.__drizzle_migrations TO dk_sc_monitor"
E2E_CLEANUP+=("\"\${PSQL[@]}\" -d postgres -c 'DROP DATABASE IF EXISTS e2e_status_cache' -c 'DROP ROLE IF EXISTS dk_sc_monitor'")
DBKIT_NO_CACHE=1 run status --dir "$m" --all --json
want=$OUT
status_same "superuser, warm"
PGUSER=dk_sc_monitor run status --dir "$m" --all --json
assert_eq 0 "$RC" "monitor: status exits 0 (${ERR:0:300})"
assert_eq "$want" "$OUT" "monitor: the cached answer is the right one"
q "UPDATE dbkit.migrations SET applied_by = 'third' WHERE tag = '0001_b'"
before=$(stored)
DBKIT_NO_CACHE=1 run status --dir "$m" --all --json
want=$OUT
PGUSER=dk_sc_monitor run status --dir "$m" --all --json
assert_eq "$want" "$OUT" "monitor after a change: a miss, the right answer"
assert_eq "$before" "$(stored)" "monitor: its answer is not stored"
set +e
out=$(PGUSER=dk_sc_monitor "${PSQL[@]}" -c "INSERT INTO dbkit.status_results (key, rows) VALUES ('x', '{}')" 2>&1)
set -e
assert_contains "$out" "permission denied" "monitor: cannot write dbkit.status_results"

case_begin "status_cache/deployer stores"
"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS dk_sc_deployer" -c "CREATE ROLE dk_sc_deployer LOGIN" \
	-c "GRANT CONNECT ON DATABASE e2e_status_cache TO dk_sc_deployer"
E2E_CLEANUP+=("\"\${PSQL[@]}\" -d postgres -c 'DROP DATABASE IF EXISTS e2e_status_cache' -c 'DROP ROLE IF EXISTS dk_sc_deployer'")
q "SELECT count(*) FROM dbkit_grant_deployer('dk_sc_deployer')" >/dev/null
q "UPDATE dbkit.migrations SET applied_by = 'fourth' WHERE tag = '0001_b'"
before=$(stored)
DBKIT_NO_CACHE=1 run status --dir "$m" --all --json
want=$OUT
PGUSER=dk_sc_deployer run status --dir "$m" --all --json
assert_eq "$want" "$OUT" "deployer after a change: a miss, the right answer"
[[ $before != "$(stored)" ]] && pass "deployer: its answer is stored" || fail "deployer: nothing stored"
after=$(stored)
PGUSER=dk_sc_deployer run status --dir "$m" --all --json
assert_eq "$want" "$OUT" "deployer again: a hit, the right answer"
assert_eq "$after" "$(stored)" "deployer again: a hit stores nothing"

case_begin "status_cache/corrupt cache"
for f in "$XDG_CACHE_HOME"/dbkit/hashes-*; do printf 'garbage' >"$f"; done
status_same "corrupt hash cache"
chmod 000 "$XDG_CACHE_HOME/dbkit"
status_same "unreadable cache directory"
chmod 700 "$XDG_CACHE_HOME/dbkit"
finish
