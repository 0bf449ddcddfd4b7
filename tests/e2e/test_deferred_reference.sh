#!/usr/bin/env bash
# The re-read after the commit (docs/design.md): a deploy leaves the objects it
# touched to a background worker, which re-reads them into the drift reference once
# the deploy's session let go of the deploy lock. The reference then equals the full
# read; back-to-back deploys never fail on the worker's lock; drift reads in between
# report no drift for the deploy's own objects and still report changes by hand.
source "$(dirname "$0")/lib.sh"
# on by default; said here too, so that the test holds whatever a cluster's default is
export PGOPTIONS="-c dbkit.defer_reference=on"

F=$WORK/folder
mkdir -p "$F"
add_migration() { # tag sql
	printf '%s\n' "$2" >"$F/$1.sql"
	write_journal "$F"
}
deferred_rows() { q "SELECT count(*) FROM dbkit.dirty_objects WHERE deferred"; }
settled() { wait_settled; }  # tests/e2e/lib.sh
same_as_full() { q "SELECT dbkit.reference() = dbkit.snapshot()"; }
# The folder as the client ships it (journal text, files by name).
payload_of() {
	python3 - "$1" <<'PY'
import json, os, sys
d = sys.argv[1]
files = {f: open(os.path.join(d, f)).read() for f in os.listdir(d) if f.endswith(".sql")}
print(json.dumps({"journal": open(os.path.join(d, "meta", "_journal.json")).read(), "files": files}))
PY
}
# hold_deploy: deploy_holding, then waits until the deploy committed its deferred rows.
hold_deploy() {
	deploy_holding
	wait_until 30 "SELECT count(*) FROM dbkit.dirty_objects WHERE deferred" >/dev/null &&
		pass "the deploy committed, its objects wait for the worker" || fail "no deferred rows: $(cat "$WORK/holder.out")"
}
# release_deploy: ends the holding session, then waits until no worker is left.
release_deploy() {
	q "INSERT INTO e2e_release VALUES (true)"
	wait "$holder" || fail "the holding session failed: $(cat "$WORK/holder.out")"
	wait_until 30 "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'dbkit reference re-read')" \
		>/dev/null || fail "a worker is still running after 30 s"
}
# deploy_holding: applies the folder from SQL in a session that keeps the deploy lock
# (as the client's does until it exits) until e2e_release has a row; in the background.
deploy_holding() {
	q "DELETE FROM e2e_release"
	# (psql expands :'payload' in a script, not in -c)
	"${PSQL[@]}" -v payload="$(payload_of "$F")" >"$WORK/holder.out" 2>&1 <<'SQL' &
CALL dbkit_deploy_lock();
SELECT count(*) FROM dbkit_apply(:'payload'::jsonb);
DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM e2e_release) LOOP PERFORM pg_sleep(0.05); END LOOP; END $$;
SQL
	holder=$!
	E2E_CLEANUP+=("kill $holder 2>/dev/null")
}

# deferred_without_worker TAG SQL: a deploy whose objects wait, with its worker stopped
# (as if it had not started yet): only a later session's DDL or deploy can take them in.
deferred_without_worker() {
	add_migration "$1" "$2"
	hold_deploy
	wait_until 30 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'dbkit reference re-read'" >/dev/null ||
		fail "no worker waits for the lock"
	q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'dbkit reference re-read'" >/dev/null
	release_deploy
	assert_match "$(deferred_rows)" '^[1-9]' "$1: its rows wait, no worker"
}

case_begin "a deploy's objects are re-read after its commit"
fresh_db e2e_deferred
# e2e_release: a flag for the background session below (its rows are data, not drift)
add_migration 0000_users 'CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);
--> statement-breakpoint
CREATE TABLE e2e_release (go boolean);'
run migrate --dir "$F"
assert_eq 0 "$RC" "the first deploy exits 0"
assert_eq "" "$(q "SELECT detail ->> 'reference' FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")" \
	"the first deploy (no reference yet) reads the whole schema itself"
add_migration 0001_name 'ALTER TABLE users ADD COLUMN name text;'
run migrate --dir "$F"
assert_eq 0 "$RC" "the second deploy exits 0"
assert_eq deferred "$(q "SELECT detail ->> 'reference' FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")" \
	"the second deploy leaves its objects to the worker"
settled && pass "the worker took them in" || fail "deferred rows still there after 30 s: $(q 'TABLE dbkit.dirty_objects')"
assert_eq t "$(same_as_full)" "the reference equals the full read"
assert_eq t "$(q "SELECT changes ? 'column:public.users.name' FROM dbkit.snapshots ORDER BY id DESC LIMIT 1")" \
	"the worker's reference row records the new column as a change"
run drift
assert_eq 0 "$RC" "dbkit drift: no drift"

case_begin "back-to-back deploys never fail on the worker's lock"
for i in 2 3 4 5 6; do
	add_migration "000${i}_c$i" "ALTER TABLE users ADD COLUMN c$i int;"
	run migrate --dir "$F" --wait 0
	assert_eq 0 "$RC" "deploy $i with --wait 0 exits 0: $ERR"
	assert_not_contains "$ERR" "deploy lock" "deploy $i says nothing about the lock"
	run drift
	assert_eq 0 "$RC" "dbkit drift right after deploy $i: no drift"
done
settled && pass "all taken in" || fail "deferred rows left: $(q 'TABLE dbkit.dirty_objects')"
assert_eq t "$(same_as_full)" "the reference equals the full read after five quick deploys"

case_begin "between the commit and the re-read"
# A deploy from SQL whose session keeps the deploy lock (as the client's does until it
# exits): the worker waits for it, so the deferred rows stay while we look.
add_migration 0007_c7 'ALTER TABLE users ADD COLUMN c7 int;'
hold_deploy
run drift
assert_eq 0 "$RC" "dbkit drift meanwhile: the deploy's own objects are no drift"
q "CREATE TABLE hand_made (id int)"
run drift
assert_eq 4 "$RC" "a table made by hand meanwhile: drift (exit 4)"
assert_contains "$OUT" "hand_made" "it is reported"
assert_not_contains "$OUT" "c7" "the deploy's column is not"
release_deploy
settled && pass "once the lock is free, the worker takes the deploy's objects in" ||
	fail "deferred rows left: $(q 'TABLE dbkit.dirty_objects')"
run drift
assert_eq 4 "$RC" "the hand-made table is still drift"
assert_contains "$OUT" "hand_made" "reported"
assert_not_contains "$OUT" "c7" "the deploy's column is not"
run accept-drift --reason "hand_made stays"
assert_eq 0 "$RC" "accept-drift"

case_begin "a change by hand to the deploy's own table before the re-read: reported, never hidden"
add_migration 0008_c8 'ALTER TABLE users ADD COLUMN c8 int;'
hold_deploy
q "ALTER TABLE users ADD COLUMN by_hand int"
run drift
assert_eq 4 "$RC" "drift (exit 4)"
assert_contains "$OUT" "users.by_hand" "the column added by hand is reported"
# the two changes to one table cannot be told apart before the re-read: the deploy's
# shows too, as drift, rather than the hand one being taken into the reference
assert_contains "$OUT" "users.c8" "the deploy's column shows with it"
release_deploy
run drift
assert_contains "$OUT" "users.by_hand" "after the worker ran, the hand column is still reported"
run accept-drift --reason "by_hand stays"
assert_eq 0 "$RC" "accept-drift"
run drift
assert_eq 0 "$RC" "no drift after accept-drift"

case_begin "roles changed before the re-read: the worker leaves the rows, drift compares in full"
add_migration 0008_c8b 'ALTER TABLE users ADD COLUMN c8b int;'
hold_deploy
q "CREATE ROLE e2e_deferred_new_role"
E2E_CLEANUP+=("\"\${PSQL[@]}\" -d postgres -c 'DROP ROLE IF EXISTS e2e_deferred_new_role'")
release_deploy
assert_match "$(deferred_rows)" '^[1-9]' "the worker left the deploy's rows (the guard differs)"
run drift
assert_eq 4 "$RC" "drift compares in full: exit 4"
assert_contains "$OUT" "users.c8b" "the deploy's own column shows (reported, not taken in unseen)"
run accept-drift --reason "after review: c8b is the migration's, the role is new"
assert_eq 0 "$RC" "accept-drift"
assert_eq 0 "$(deferred_rows)" "accept-drift took the rows in"
q "DROP ROLE e2e_deferred_new_role"
run accept-drift --reason "the role is gone again"  # the guard: roles as they are now

case_begin "a GRANT on another table before the re-read: the worker takes the deploy's objects in"
# A GRANT reports no object to event triggers, but the command it collects names them:
# the worker sees the deploy's objects untouched by it and takes them in.
add_migration 0008_c8c 'ALTER TABLE users ADD COLUMN c8c int;'
hold_deploy
q "GRANT SELECT ON e2e_release TO PUBLIC"
release_deploy
assert_eq 0 "$(deferred_rows)" "the worker took the deploy's rows in"
run drift
assert_eq 4 "$RC" "drift: exit 4"
assert_contains "$OUT" "e2e_release" "the GRANT is reported"
assert_not_contains "$OUT" "c8c" "the deploy's own column is not drift"
run accept-drift --reason "after review"
assert_eq 0 "$RC" "accept-drift"
q "REVOKE SELECT ON e2e_release FROM PUBLIC"
run accept-drift --reason "revoked again"

case_begin "a GRANT on the deploy's own table before the re-read: the deploy's change shows until accepted"
# The re-read would see the GRANT in the deploy's own entry: the worker leaves that
# table to a comparison with the reference from before the deploy (reported, never hidden).
add_migration 0008_c8d 'ALTER TABLE users ADD COLUMN c8d int;'
hold_deploy
q "GRANT SELECT ON users TO PUBLIC"
release_deploy
run drift
assert_eq 4 "$RC" "drift: exit 4"
assert_contains "$OUT" "users.c8d" "the deploy's own column shows, never taken in with the GRANT unseen"
run accept-drift --reason "after review"
assert_eq 0 "$RC" "accept-drift"
q "REVOKE SELECT ON users FROM PUBLIC"
run accept-drift --reason "revoked again"

case_begin "a GRANT of a kind no entry holds before the re-read: the worker leaves the rows"
add_migration 0008_c8e 'ALTER TABLE users ADD COLUMN c8e int;'
hold_deploy
q "GRANT USAGE ON LANGUAGE plpgsql TO PUBLIC"
release_deploy
assert_match "$(deferred_rows)" '^[1-9]' "the worker left the deploy's rows (a command that names no object)"
run drift
assert_eq 4 "$RC" "drift compares in full: exit 4"
assert_contains "$OUT" "users.c8e" "the deploy's own column shows"
run accept-drift --reason "after review"
assert_eq 0 "$RC" "accept-drift"
assert_eq 0 "$(deferred_rows)" "accept-drift took the rows in"
q "REVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC"

case_begin "the first DDL by hand after a deferred deploy takes the deploy's objects in first"
# The common case: \`dbkit migrate\` exits, a deploy script grants at once. Made
# deterministic by stopping the worker while the deploy's session holds the lock: the
# GRANT's transaction then finds the rows, takes the lock and re-reads them before its
# own change, so drift reports the GRANT alone (the worker's path reported the deploy's
# column with it until accept-drift: the cases above).
run accept-drift --reason "the language's grant revoked again"  # no drift pending: the deploy defers
deferred_without_worker 0008_c8f "ALTER TABLE users ADD COLUMN c8f text DEFAULT 'a\\b', ADD COLUMN c8f_b bytea DEFAULT '\\x0102';"
# settings of the hand session that change how names and literals print must not reach the reference
q "BEGIN; SET LOCAL quote_all_identifiers = on; SET LOCAL standard_conforming_strings = off;
   SET LOCAL bytea_output = escape;
   GRANT SELECT ON users TO PUBLIC; ALTER TABLE users ADD COLUMN by_hand2 int; COMMIT" >/dev/null
assert_eq 0 "$(deferred_rows)" "the GRANT's transaction took them in before its first statement"
assert_eq "t|t|t" "$(q "SELECT dbkit.reference() ? 'column:public.users.c8f',
                      dbkit.reference() -> 'column:public.users.c8f' = dbkit.snapshot() -> 'column:public.users.c8f',
                      dbkit.reference() -> 'column:public.users.c8f_b' = dbkit.snapshot() -> 'column:public.users.c8f_b'")" \
	"the deploy's column entries are the ones a plain session reads (keys, defaults 'a\\b' and bytea)"
run drift
assert_eq 4 "$RC" "drift: exit 4"
assert_contains "$OUT" "users.by_hand2" "the column added by hand is reported"
assert_contains "$OUT" "privileges granted to PUBLIC: SELECT" "and the GRANT"
assert_not_contains "$OUT" "c8f" "the deploy's own columns are not drift"
run accept-drift --reason "after review"
assert_eq 0 "$RC" "accept-drift"
assert_eq t "$(same_as_full)" "the reference equals the full read"
q "REVOKE SELECT ON users FROM PUBLIC; ALTER TABLE users DROP COLUMN by_hand2" >/dev/null
run accept-drift --reason "undone"

case_begin "the first DDL by hand after a write that fires no event trigger: not taken in"
# REASSIGN OWNED fires no event trigger: read in by the GRANT after it, the deploy's table
# with its new owner would have entered the reference unseen. The rows stay, and drift
# compares the deploy's objects in full (the owner change reported with them).
q "DROP ROLE IF EXISTS e2e_deferred_owner; CREATE ROLE e2e_deferred_owner" >/dev/null
E2E_CLEANUP+=("\"\${PSQL[@]}\" -d postgres -c 'DROP ROLE IF EXISTS e2e_deferred_owner'")
run accept-drift --reason "a new role (roles are in the guard: a deploy after it reads in full)"
deferred_without_worker 0008_c8f2 'CREATE TABLE owned_t (id int);
--> statement-breakpoint
ALTER TABLE owned_t OWNER TO e2e_deferred_owner;'
q "BEGIN; REASSIGN OWNED BY e2e_deferred_owner TO CURRENT_USER; GRANT SELECT ON e2e_release TO PUBLIC; COMMIT" >/dev/null
assert_match "$(deferred_rows)" '^[1-9]' "the rows stay (the transaction had written before its first DDL)"
run drift
assert_eq 4 "$RC" "drift: exit 4"
assert_contains "$OUT" "owned_t" "the deploy's table is compared in full: the owner change is not hidden"
# the same REASSIGN committed on its own before the first DDL: the guard the deferral recorded
# (owners as the deploy left them) differs, so that DDL leaves the rows too
run accept-drift --reason "owner reassigned on purpose"
assert_eq 0 "$RC" "accept-drift"
q "ALTER TABLE owned_t OWNER TO e2e_deferred_owner; REVOKE SELECT ON e2e_release FROM PUBLIC" >/dev/null
run accept-drift --reason "as the migration left it"
deferred_without_worker 0008_c8f3 'ALTER TABLE owned_t ADD COLUMN c int;'
q "REASSIGN OWNED BY e2e_deferred_owner TO CURRENT_USER" >/dev/null
q "GRANT SELECT ON e2e_release TO PUBLIC" >/dev/null
assert_match "$(deferred_rows)" '^[1-9]' "a REASSIGN committed first: the rows stay"
run drift
assert_contains "$OUT" "owned_t" "the owner change is reported"
q "REVOKE SELECT ON e2e_release FROM PUBLIC" >/dev/null
run accept-drift --reason "after review"
assert_eq 0 "$RC" "accept-drift"

case_begin "the first DDL by hand from a role that may not deploy, or under a short statement_timeout: not taken in"
# the deploy lock, held until its commit, would let a role that can merely connect hold up
# every deploy; a short statement_timeout could end the statement during the re-read
q "DROP ROLE IF EXISTS e2e_deferred_plain; CREATE ROLE e2e_deferred_plain LOGIN; GRANT CREATE ON SCHEMA public TO e2e_deferred_plain" >/dev/null
E2E_CLEANUP+=("\"\${PSQL[@]}\" -d postgres -c 'DROP ROLE IF EXISTS e2e_deferred_plain'")
run accept-drift --reason "a new role and its grant"
deferred_without_worker 0008_c8f4 'ALTER TABLE users ADD COLUMN c8f4 int;'
"${PSQL[@]}" -U e2e_deferred_plain -c "CREATE TABLE plain_t (id int)" >/dev/null
assert_match "$(deferred_rows)" '^[1-9]' "a role that may not deploy: the rows stay"
"${PSQL[@]}" -c "SET statement_timeout = '2s'" -c "CREATE TABLE timed_t (id int)" >/dev/null
assert_match "$(deferred_rows)" '^[1-9]' "under statement_timeout = 2s: the rows stay"
q "DROP TABLE plain_t, timed_t; REVOKE CREATE ON SCHEMA public FROM e2e_deferred_plain" >/dev/null
run accept-drift --reason "undone"
assert_eq 0 "$RC" "accept-drift"
assert_eq 0 "$(deferred_rows)" "accept-drift took the rows in"

case_begin "the first DDL by hand cannot take them in: a warning, and the statement runs"
# Made to fail by renaming a column its re-read reads (dbkit's own table, by a superuser,
# with the trigger disabled meanwhile: the rename is DDL too): the user's statement must
# never fail for dbkit's bookkeeping.
rename_guard() { # from to
	q "ALTER EVENT TRIGGER dbkit_settle_ddl DISABLE; ALTER TABLE dbkit.reference_state RENAME COLUMN $1 TO $2;
	   ALTER EVENT TRIGGER dbkit_settle_ddl ENABLE" >/dev/null
}
deferred_without_worker 0008_c8g 'ALTER TABLE users ADD COLUMN c8g int;'
rename_guard guard guard_renamed
set +e
warn=$("${PSQL[@]}" -c "CREATE TABLE made_anyway (id int)" 2>&1)
rc=$?
set -e
rename_guard guard_renamed guard
assert_eq 0 "$rc" "the statement succeeds: $warn"
assert_contains "$warn" "WARNING:  dbkit: the last deploy's objects could not be taken into the drift reference before this statement" \
	"a warning says what could not be done"
assert_contains "$warn" "guard" "and why (the error)"
assert_eq made_anyway "$(q "SELECT relname FROM pg_class WHERE relname = 'made_anyway'")" "the table was made"
assert_match "$(deferred_rows)" '^[1-9]' "the rows stay for the worker or the next deploy"
run drift
assert_contains "$OUT" "made_anyway" "the hand table is drift"
q "DROP TABLE made_anyway" >/dev/null
run accept-drift --reason "undone"
assert_eq 0 "$RC" "accept-drift"

case_begin "the first DDL by hand while a deploy's session holds the lock: not waited for"
# A running deploy may take minutes: a hand DDL never waits for it (it may hold a lock
# that deploy needs), and the worker's path applies.
add_migration 0008_c8h 'ALTER TABLE users ADD COLUMN c8h int;'
hold_deploy
SECONDS_BEFORE=$SECONDS
q "CREATE TABLE hand_waits_not (id int)" >/dev/null
assert_eq 1 "$((SECONDS - SECONDS_BEFORE < 4))" "the hand DDL did not wait for the deploy's session"
release_deploy
settled && pass "the worker took the rows in" || fail "deferred rows left: $(q 'TABLE dbkit.dirty_objects')"
run drift
assert_contains "$OUT" "hand_waits_not" "the hand table is drift"
assert_not_contains "$OUT" "c8h" "the deploy's column is not"
q "DROP TABLE hand_waits_not" >/dev/null
run accept-drift --reason "undone"

case_begin "a deploy deferred, then CREATE INDEX CONCURRENTLY in the same run"
# The worker waits for the client's deploy lock through the rest of the run; waiting, it
# holds no snapshot, so the concurrent build never waits for it (a deadlock otherwise).
add_migration 0009_c9 'ALTER TABLE users ADD COLUMN c9 int;'
add_migration 0010_c9_idx 'CREATE INDEX CONCURRENTLY users_c9 ON users (c9);'
run migrate --dir "$F"
assert_eq 0 "$RC" "migrate exits 0: $ERR"
assert_not_contains "$ERR$OUT" "deadlock" "no deadlock"
assert_eq t "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_c9'::regclass")" "the index is valid"
settled && pass "the worker took the run's objects in" || fail "deferred rows left: $(q 'TABLE dbkit.dirty_objects')"
assert_eq t "$(same_as_full)" "the reference equals the full read"
run drift
assert_eq 0 "$RC" "no drift"

case_begin "twelve non-transactional migrations in one run: one worker waits for them all"
# Each finish defers; a worker already waiting for the lock takes every row in, so no
# other starts (twelve would not fit in max_worker_processes, 8 by default).
for k in $(seq 11 22); do
	add_migration "00${k}_idx_$k" "CREATE INDEX CONCURRENTLY users_email_$k ON users (email);"
done
mark=$(q "SELECT max(id) FROM dbkit.events")
run migrate --dir "$F"
assert_eq 0 "$RC" "migrate exits 0: $ERR"
assert_eq 12 "$(q "SELECT count(*) FROM dbkit.events WHERE id > $mark AND (detail ->> 'non_transactional')::bool
                     AND detail ->> 'reference' = 'deferred'")" "all twelve finishes left their objects to the worker"
settled && pass "taken in" || fail "deferred rows left: $(q 'TABLE dbkit.dirty_objects')"
assert_eq t "$(same_as_full)" "the reference equals the full read"
run drift
assert_eq 0 "$RC" "no drift"

case_begin "dbkit.defer_reference = off: the deploy re-reads its objects itself"
add_migration 0023_c23 'ALTER TABLE users ADD COLUMN c23 int;'
PGOPTIONS="-c dbkit.defer_reference=off" run migrate --dir "$F"
assert_eq 0 "$RC" "migrate exits 0"
assert_eq "" "$(q "SELECT detail ->> 'reference' FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")" \
	"not deferred"
assert_eq 0 "$(deferred_rows)" "no deferred rows"
assert_eq t "$(same_as_full)" "the reference equals the full read at once"

case_begin "the worker holds the lock: waited for quietly; a session that takes its name: announced"
# The worker is told by its backend type, which no session can take; its application
# name any session can. Hold the worker inside its re-read (after it took the deploy
# lock) with a lock on dbkit.dirty_objects, the first table it reads.
add_migration 0024_c24 'ALTER TABLE users ADD COLUMN c24 int;'
hold_deploy
hold_session e2e_dirty_lock "BEGIN" "LOCK TABLE dbkit.dirty_objects IN ACCESS EXCLUSIVE MODE" >/dev/null
q "INSERT INTO e2e_release VALUES (true)"
wait "$holder" || fail "the holding session failed: $(cat "$WORK/holder.out")"
held=$(wait_until 30 "SELECT dbkit_deploy_lock_holder() WHERE dbkit_deploy_lock_holder() LIKE '%background worker%'") ||
	fail "the worker never took the deploy lock: $(q 'SELECT dbkit_deploy_lock_holder()')"
assert_match "$held" '^pid [0-9]+ \(background worker "dbkit reference re-read", user [^,]+, connected since' \
	"dbkit_deploy_lock_holder() names the worker by its backend type"
add_migration 0025_c25 'ALTER TABLE users ADD COLUMN c25 int;'
HOLDER=e2e_dirty_lock run_until_lock_free migrate --dir "$F" --wait 0
assert_eq 1 "$WAITED" "with --wait 0 the client still waits for the worker"
assert_eq 0 "$RC" "then deploys: $ERR"
assert_not_contains "$ERR" "deploy lock" "and says nothing about the lock"
settled && pass "the worker took the rows in" || fail "deferred rows left: $(q 'TABLE dbkit.dirty_objects')"
assert_eq t "$(same_as_full)" "the reference equals the full read"
# a session named like the worker is an ordinary holder: refused at once with --wait 0, and named
wait_until 30 "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'dbkit reference re-read')" >/dev/null ||
	fail "a worker is still running"
add_migration 0026_c26 'ALTER TABLE users ADD COLUMN c26 int;'
hold_session "dbkit reference re-read" "CALL dbkit_deploy_lock()" >/dev/null
SECONDS_BEFORE=$SECONDS
run migrate --dir "$F" --wait 0
assert_eq 1 "$RC" "migrate --wait 0 is refused"
assert_contains "$ERR" "deploy lock is held (--wait 0: not waiting) by:" "at once, naming the holder"
assert_contains "$ERR" "application dbkit reference re-read, client local" "as the session it is"
assert_eq 1 "$((SECONDS - SECONDS_BEFORE < 20))" "without the worker's 30-second wait"
end_session "dbkit reference re-read"
run migrate --dir "$F"
assert_eq 0 "$RC" "the next deploy applies it: $ERR"

finish
