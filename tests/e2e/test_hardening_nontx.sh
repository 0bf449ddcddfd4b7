#!/usr/bin/env bash
# issue 16, the non-transactional path: a concurrent index build retried after a lock
# timeout (item 1), a client killed after the server committed a statement but before
# it recorded progress (item 2), drift absorbed by --resume (item 8). Every wait is on
# observable state (the client's output, pg_stat_activity), never a fixed sleep.
source "$(dirname "$0")/lib.sh"

# drizzle's journal for the .sql files of a folder, in name order
# wait_for SQL: polls until the query returns t (30 s at most)
wait_for() {
	local k
	for k in $(seq 1 300); do
		[[ "$(q "$1")" == t ]] && return 0
		sleep 0.1
	done
	fail "timed out waiting for: $1"
	return 1
}
# wait_file FILE TEXT: polls until FILE contains TEXT (30 s at most)
wait_file() {
	local k
	for k in $(seq 1 300); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "timed out waiting for [$2] in $1"
	return 1
}
# A session kept open on a fifo: hold_open NAME, then say NAME "SQL", then release NAME.
hold_open() {
	mkfifo "$WORK/$1.fifo"
	PGAPPNAME=$1 "${PSQL[@]}" <"$WORK/$1.fifo" >"$WORK/$1.out" 2>&1 &
	eval "exec {fd_$1}>\"$WORK/$1.fifo\""
}
say() { local fd="fd_$1"; echo "$2" >&"${!fd}"; }
release() { local fd="fd_$1"; eval "exec ${!fd}>&-"; }
# paused_migrate NAME LOCK DIR: dbkit migrate --dir DIR in the background, held at the
# migration's `SELECT pg_advisory_xact_lock_shared(LOCK)` by the session NAME_locker;
# its output in $WORK/NAME.out and .err, its pid in MIG
paused_migrate() {
	hold_open "$1_locker"
	say "$1_locker" "SELECT pg_advisory_lock($2);"
	wait_for "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = '$1_locker' AND l.locktype = 'advisory' AND l.granted)"
	PGAPPNAME=$1_deployer "$DBKIT" migrate --dir "$3" --lock-timeout 60s >"$WORK/$1.out" 2>"$WORK/$1.err" &
	MIG=$!
	wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = '$1_deployer' AND query LIKE '%$2%' AND wait_event_type = 'Lock')"
}
# resume_paused NAME LOCK: lets the run of paused_migrate NAME LOCK go on; RC is its exit code
resume_paused() {
	say "$1_locker" "SELECT pg_advisory_unlock($2);"
	release "$1_locker"
	set +e
	wait "$MIG"
	RC=$?
	set -e
}

# --- item 1: a retried CONCURRENTLY build never records an invalid index
F=$WORK/cic
mkdir -p "$F"
printf 'CREATE TABLE "users" ("id" integer PRIMARY KEY NOT NULL, "email" text NOT NULL);\n' >"$F/0000_users.sql"
write_journal "$F"
fresh_db hardening_cic
run migrate --dir "$F"
assert_eq 0 "$RC" "cic: 0000 applied ($ERR)"
printf 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "users_email_unique" ON "users" USING btree ("email");\n' >"$F/0001_email.sql"
write_journal "$F"
hold_open writer1
say writer1 "BEGIN; INSERT INTO users VALUES (100, 'w@example.com');"
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'writer1' AND state = 'idle in transaction')"
"$DBKIT" migrate --dir "$F" --lock-timeout 1s --lock-retries 10 >"$WORK/cic.out" 2>"$WORK/cic.err" &
mig=$!
wait_file "$WORK/cic.err" "retry 1 of"  # the first build failed on the lock, leaving an invalid index
say writer1 "COMMIT;"
release writer1
set +e
wait $mig
RC=$?
set -e
assert_eq 0 "$RC" "cic retried: migrate exits 0 once the writer commits"
assert_eq t "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_unique'::regclass")" \
	"cic retried: the recorded index is valid (the invalid one was dropped before the retry)"
assert_contains "$(cat "$WORK/cic.err")" "is invalid" "cic retried: the client says it drops the invalid index"
set +e
dup=$("${PSQL[@]}" -c "INSERT INTO users VALUES (101, 'w@example.com')" 2>&1)
set -e
assert_contains "$dup" "duplicate key" "cic retried: the unique index enforces uniqueness"
assert_eq 1 "$(q "SELECT count(*) FROM dbkit.migrations WHERE tag = '0001_email'")" "cic retried: recorded once"

# drift reports an invalid index whatever the reference says
q 'CREATE TABLE d (v int)'
q 'INSERT INTO d VALUES (1), (1)'
"${PSQL[@]}" -c 'CREATE UNIQUE INDEX CONCURRENTLY d_v ON d (v)' 2>/dev/null || true
q "SELECT dbkit_accept_drift('reference taken with an invalid index') IS NOT NULL"
run drift
assert_eq 4 "$RC" "drift: exit 4 with an invalid index in the reference"
assert_contains "$OUT" "d_v" "drift: names the invalid index"
assert_contains "$OUT" "invalid" "drift: says it is invalid"

# --- item 2: a statement that can run in a transaction commits with its progress row
F=$WORK/ledger
mkdir -p "$F"
printf 'CREATE TABLE "ledger" ("id" serial PRIMARY KEY, "amount" integer NOT NULL);\n' >"$F/0000_ledger.sql"
printf -- '-- dbkit:no-transaction\nINSERT INTO ledger (amount) SELECT 100 FROM pg_catalog.pg_advisory_xact_lock_shared(4242);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "ledger_amount" ON "ledger" ("amount");\n' >"$F/0001_backfill.sql"
write_journal "$F"
fresh_db hardening_resume
hold_open locker
say locker "SELECT pg_advisory_lock(4242);"
wait_for "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'locker' AND l.locktype = 'advisory' AND l.granted)"
PGAPPNAME=deployer "$DBKIT" migrate --dir "$F" --lock-timeout 60s >"$WORK/ledger.out" 2>"$WORK/ledger.err" &
mig=$!
# the INSERT is running, waiting for the advisory lock
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'deployer' AND query LIKE 'INSERT INTO ledger%' AND wait_event_type = 'Lock')"
kill -STOP $mig  # a network partition: the client hears nothing more
say locker "SELECT pg_advisory_unlock(4242);"
release locker
# the server finished the INSERT (and, before the fix, committed it on its own)
wait_for "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'deployer' AND state = 'active')"
kill -KILL $mig
wait $mig 2>/dev/null || true
wait_for "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'deployer')"
run migrate --dir "$F"
assert_eq 1 "$RC" "killed client: migrate without --resume exits 1 (DK009)"
assert_contains "$ERR" "may have completed" "killed client: DK009 says the statement may have completed"
run migrate --dir "$F" --resume
assert_eq 0 "$RC" "killed client: --resume exits 0"
assert_eq 1 "$(q 'SELECT count(*) FROM ledger')" "killed client: the INSERT ran exactly once"
assert_eq t "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ledger_amount'::regclass")" "killed client: the index is valid"
assert_eq 0 "$(q 'SELECT count(*) FROM dbkit.progress')" "killed client: no progress row left"

# --resume of a concurrent build that completed before the client died: skipped, not failed
F=$WORK/done
mkdir -p "$F"
printf 'CREATE TABLE "t" ("a" integer);\n' >"$F/0000_t.sql"
write_journal "$F"
fresh_db hardening_done
run migrate --dir "$F"
assert_eq 0 "$RC" "completed build: 0000 applied"
printf 'CREATE INDEX CONCURRENTLY "t_a" ON "t" ("a");\n' >"$F/0001_t_a.sql"
write_journal "$F"
# what a client killed right after the build leaves: the index, and progress at statement 1
q 'CREATE INDEX CONCURRENTLY t_a ON t (a)'
q "INSERT INTO dbkit.progress (tag, hash, idx, created_at, statements, next_statement, status) VALUES ('0001_t_a', 'x', 1, 0, 1, 1, 'running')"
run migrate --dir "$F" --resume
assert_eq 0 "$RC" "completed build: --resume exits 0"
assert_contains "$ERR" "completed before the interruption" "completed build: --resume says it skipped it"
assert_eq 1 "$(q "SELECT count(*) FROM dbkit.migrations WHERE tag = '0001_t_a'")" "completed build: recorded"

# --resume where an index of the statement's name exists on another table of the schema
# (found by an attack): not taken for the statement's build, so not skipped and recorded
F=$WORK/other
mkdir -p "$F"
printf 'CREATE TABLE "t" ("a" integer);\n--> statement-breakpoint\nCREATE TABLE "u" ("a" integer);\n' >"$F/0000_t.sql"
write_journal "$F"
fresh_db hardening_other
run migrate --dir "$F"
assert_eq 0 "$RC" "other table: 0000 applied"
printf 'CREATE INDEX CONCURRENTLY "t_a" ON "t" ("a");\n' >"$F/0001_t_a.sql"
write_journal "$F"
q 'CREATE INDEX t_a ON u (a)'
q "INSERT INTO dbkit.progress (tag, hash, idx, created_at, statements, next_statement, status) VALUES ('0001_t_a', 'x', 1, 0, 1, 1, 'running')"
run migrate --dir "$F" --resume
assert_eq 1 "$RC" "other table: --resume fails on the name (the build on t never ran)"
assert_not_contains "$ERR" "completed before the interruption" "other table: not skipped as built"
assert_contains "$ERR" "already exists" "other table: PostgreSQL's error on the name"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations WHERE tag = '0001_t_a'")" "other table: not recorded"
assert_eq u "$(q "SELECT indrelid::regclass FROM pg_index WHERE indexrelid = 't_a'::regclass")" "other table: u's index untouched"

# --- item 8: --resume reports other sessions' changes as drift, as the normal path does
F=$WORK/drift
mkdir -p "$F"
printf 'CREATE TABLE "t" ("a" integer, "b" integer);\n--> statement-breakpoint\nINSERT INTO t VALUES (1, 1), (2, 1);\n' >"$F/0000_t.sql"
printf 'CREATE INDEX CONCURRENTLY "t_a" ON "t" ("a");\n--> statement-breakpoint\nCREATE UNIQUE INDEX CONCURRENTLY "t_b" ON "t" ("b");\n' >"$F/0001_idx.sql"
write_journal "$F"
fresh_db hardening_drift
run migrate --dir "$F"
assert_eq 1 "$RC" "drift: statement 2 fails on duplicates"
q 'UPDATE t SET b = 2 WHERE a = 2'  # data, not schema: no drift
run migrate --dir "$F" --resume
assert_eq 0 "$RC" "drift: --resume exits 0 (the invalid t_b is dropped and built again)"
assert_not_contains "$ERR$OUT" "changed outside the migrations" "drift: no out-of-band change, no drift warning"
assert_eq f "$(q "SELECT bool_or(coalesce((detail->>'absorbed_drift')::bool, false)) FROM dbkit.events WHERE action = 'apply'")" \
	"drift: no event records absorbed drift"
printf 'CREATE UNIQUE INDEX CONCURRENTLY "t_a_b" ON "t" ("a", "b");\n--> statement-breakpoint\nCREATE UNIQUE INDEX CONCURRENTLY "t_a_uniq" ON "t" ("a");\n' >"$F/0002_more.sql"
write_journal "$F"
q 'INSERT INTO t VALUES (3, 3), (3, 4)'
run migrate --dir "$F"
assert_eq 1 "$RC" "drift: 0002 statement 2 fails on duplicates"
q 'CREATE TABLE out_of_band (id int)'  # another session's change, while the migration is stopped
q 'DELETE FROM t WHERE b = 4'
run migrate --dir "$F" --resume
assert_eq 0 "$RC" "drift: --resume exits 0"
assert_contains "$ERR$OUT" "changed outside the migrations" "drift: --resume warns about the out-of-band change"
# it touched none of the migration's objects: still drift, not taken into the reference
assert_contains "$ERR$OUT" "dbkit drift reports them" "drift: --resume says the change stays drift"
assert_eq t "$(q "SELECT bool_or(coalesce((detail->>'ddl_during_run')::bool, false)) FROM dbkit.events WHERE action = 'apply'")" \
	"drift: the event records ddl_during_run: true"
assert_eq f "$(q "SELECT bool_or(coalesce((detail->>'absorbed_drift')::bool, false)) FROM dbkit.events WHERE action = 'apply'")" \
	"drift: and no absorbed drift"
run drift
assert_eq 4 "$RC" "drift: the out-of-band table is drift after the run ($OUT)"
assert_contains "$OUT" "public.out_of_band" "drift: it is named"
assert_not_contains "$OUT" "t_a_uniq" "drift: the migration's own indexes are not"
q 'DROP TABLE out_of_band'
run drift
assert_eq 0 "$RC" "drift: with it dropped, no drift ($OUT)"

# --- issue 14 item 2: the step is recorded by the statement's check ('done'). When that call
# fails after a top-level statement completed (a lock timeout here, raised once by a trigger
# on dbkit.progress), the statement is not run again: the run stops, says it ran, and
# --resume finds it complete.
F=$WORK/done_fails
mkdir -p "$F"
printf 'CREATE TABLE "t" ("a" integer);\n' >"$F/0000_t.sql"
printf 'CREATE INDEX CONCURRENTLY "t_a" ON "t" ("a");\n' >"$F/0001_t_a.sql"
write_journal "$F"
fresh_db hardening_done_fails
q "CREATE SEQUENCE step_calls"
q "CREATE FUNCTION fail_step() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN IF nextval('public.step_calls') = 1 THEN RAISE EXCEPTION 'regress: the progress row is locked' USING ERRCODE = 'lock_not_available'; END IF; RETURN NEW; END\$\$"
q "CREATE TRIGGER fail_step BEFORE UPDATE ON dbkit.progress FOR EACH ROW WHEN (NEW.next_statement > OLD.next_statement) EXECUTE FUNCTION fail_step()"
run migrate --dir "$F"
assert_eq 1 "$RC" "done fails: the run stops ($OUT $ERR)"
assert_contains "$ERR" "the statement ran, but its check or progress row failed" "done fails: says the statement ran"
assert_not_contains "$ERR" "retry 1 of" "done fails: the completed build is not run again"
assert_eq t "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a'::regclass")" "done fails: the index is built"
run migrate --dir "$F" --resume
assert_eq 0 "$RC" "done fails: --resume exits 0 ($ERR)"
assert_contains "$ERR" "completed before the interruption" "done fails: --resume skips the completed build"
assert_eq 1 "$(q "SELECT count(*) FROM dbkit.migrations WHERE tag = '0001_t_a'")" "done fails: recorded"
q "DROP TRIGGER fail_step ON dbkit.progress"

# --- a poll while a non-transactional migration runs: the statements it has already
# committed are dbkit's own, not drift (their index was reported as "no migration
# created it", exit 4, until the finish); a concurrent build still running is not an
# invalid index left by a failure (whose advice, DROP INDEX CONCURRENTLY, would kill it)
case_begin "drift during a non-transactional run"
F=$WORK/poll_during
mkdir -p "$F"
printf 'CREATE TABLE "t" ("id" integer GENERATED BY DEFAULT AS IDENTITY, "a" integer, "b" integer);\n' >"$F/0000_t.sql"
write_journal "$F"
fresh_db hardening_poll_during
run migrate --dir "$F"
assert_eq 0 "$RC" "poll during: 0000 applied ($ERR)"
printf -- '-- dbkit:no-transaction\nCREATE INDEX CONCURRENTLY "t_a" ON "t" ("a");\n--> statement-breakpoint\nALTER TABLE "t" ADD COLUMN "x" integer;\n--> statement-breakpoint\nSELECT 1 FROM pg_catalog.pg_advisory_xact_lock_shared(4343);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "t_b" ON "t" ("b");\n' >"$F/0001_idx.sql"
write_journal "$F"
hold_open poll_locker
say poll_locker "SELECT pg_advisory_lock(4343);"
wait_for "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'poll_locker' AND l.locktype = 'advisory' AND l.granted)"
PGAPPNAME=poll_deployer "$DBKIT" migrate --dir "$F" --lock-timeout 60s >"$WORK/poll.out" 2>"$WORK/poll.err" &
mig=$!
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'poll_deployer' AND query LIKE '%4343%' AND wait_event_type = 'Lock')"
run drift
assert_eq 0 "$RC" "poll during: drift exits 0 while the migration's first index is built and its finish not run ($OUT $ERR)"
assert_not_contains "$OUT" "t_a" "poll during: the migration's own index is not reported"
# by hand on the identity's sequence of a table only the migration touched so far: read through the table
q 'ALTER SEQUENCE t_id_seq INCREMENT BY 10'
run drift
assert_eq 4 "$RC" "poll during: a hand change to the identity's sequence is drift ($OUT)"
assert_contains "$OUT" "public.t.id" "poll during: its column is reported"
q 'ALTER SEQUENCE t_id_seq INCREMENT BY 1'
q 'ALTER TABLE t ADD COLUMN c integer'
run drift
assert_eq 4 "$RC" "poll during: a change by hand meanwhile is drift"
assert_contains "$OUT" "public.t.c" "poll during: the column added by hand is reported"
# the second build waits for a transaction with an older snapshot: its index is invalid meanwhile
hold_open poll_reader
say poll_reader "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM t;"
wait_for "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'poll_reader' AND state = 'idle in transaction')"
say poll_locker "SELECT pg_advisory_unlock(4343);"
release poll_locker
wait_for "SELECT EXISTS (SELECT FROM pg_index i JOIN pg_stat_progress_create_index p ON p.index_relid = i.indexrelid WHERE i.indexrelid = 't_b'::regclass AND NOT i.indisvalid)"
run drift
assert_not_contains "$OUT" "invalid" "poll during: the index still being built is not called invalid"
assert_not_contains "$OUT" "t_b" "poll during: nor reported at all"
say poll_reader "COMMIT;"
release poll_reader
set +e
wait $mig
RC=$?
set -e
assert_eq 0 "$RC" "poll during: the migration completes ($(cat "$WORK/poll.err"))"


# --- a poll while a non-transactional migration runs and roles changed: the dirty set
# cannot be trusted then (event triggers do not see roles), so the poll compares the whole
# schema; that comparison also leaves out the statements the migration already committed
# (it reported the migration's first index as "no migration created it", exit 4)
case_begin "a poll during a non-transactional run, with roles changed"
F=$WORK/poll_roles
mkdir -p "$F"
printf 'CREATE TABLE "t" ("id" integer PRIMARY KEY, "a" integer, "b" integer);\n--> statement-breakpoint\nCREATE TABLE "u" ("id" integer PRIMARY KEY);\n' >"$F/0000_t.sql"
write_journal "$F"
fresh_db hardening_poll_roles
run migrate --dir "$F"
assert_eq 0 "$RC" "roles: 0000 applied ($ERR)"
printf -- '-- dbkit:no-transaction\nCREATE INDEX CONCURRENTLY "t_a" ON "t" ("a");\n--> statement-breakpoint\nALTER TABLE "t" ADD CONSTRAINT "t_a_check" CHECK (a > 0);\n--> statement-breakpoint\nSELECT 1 FROM pg_catalog.pg_advisory_xact_lock_shared(4344);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "t_b" ON "t" ("b");\n' >"$F/0001_ab.sql"
write_journal "$F"
paused_migrate roles 4344 "$F"
q 'ALTER TABLE u ADD COLUMN y integer'
run drift
assert_eq 4 "$RC" "roles: a change by hand meanwhile is drift ($OUT)"
assert_contains "$OUT" "public.u.y" "roles: the column added by hand is reported"
assert_not_contains "$OUT" "t_a" "roles: the migration's index is not"
# the event names the table an ALTER TABLE changed; the constraint's entry is its own
assert_not_contains "$OUT" "t_a_check" "roles: nor the constraint it added"
assert_eq "t" "$(q "SELECT dbkit_snapshot(full => false) = dbkit_snapshot(full => true)")" \
	"roles: the incremental live schema equals the full read meanwhile"
q 'CREATE ROLE dbkit_poll_role'
assert_eq "" "$(q "SELECT dbkit._dirty_set()")" "roles: a new role forces the full comparison"
run drift
assert_eq 4 "$RC" "roles: the full comparison reports the change by hand ($OUT)"
assert_contains "$OUT" "public.u.y" "roles: full comparison: the column added by hand"
assert_not_contains "$OUT" "t_a" "roles: full comparison: the migration's own index is left out"
assert_not_contains "$OUT" "t_a_check" "roles: full comparison: and its constraint"
q 'DROP ROLE dbkit_poll_role'
resume_paused roles 4344
assert_eq 0 "$RC" "roles: the migration completes ($(cat "$WORK/roles.err"))"
# DDL by others during a non-transactional run that touched none of its objects stays drift
assert_contains "$(cat "$WORK/roles.err")" "touch none of the migration's objects" \
	"roles: the change by hand during the run is named, and kept as drift"
assert_eq "0" "$(q "SELECT count(*) FROM dbkit.dirty_objects WHERE by_dbkit")" "roles: the finish took the migration's objects in"
run drift
assert_eq 4 "$RC" "roles: the change by hand is drift after the run ($OUT)"
assert_contains "$OUT" "public.u.y" "roles: after: the column added by hand"
assert_not_contains "$OUT" "t_a" "roles: after: not the first index"
assert_not_contains "$OUT" "t_b" "roles: after: nor the second"
assert_eq "t" "$(q "SELECT dbkit_snapshot(full => false) = dbkit_snapshot(full => true)")" \
	"roles: the incremental live schema equals the full read after the run"
q 'ALTER TABLE u DROP COLUMN y'
run drift
assert_eq 0 "$RC" "roles: with the change undone, the reference is what the migrations left ($OUT)"
assert_eq "t" "$(q "SELECT dbkit.reference() - 'dbkit:format' = dbkit_snapshot(full => true) - 'dbkit:format'")" \
	"roles: the stored reference is the full read"
# a change by hand to the migration's own table during the run: the two cannot be told
# apart, so the reference takes it in, and says so
printf -- '-- dbkit:no-transaction\nSELECT 1 FROM pg_catalog.pg_advisory_xact_lock_shared(4345);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "t_c" ON "t" ("b", "a");\n' >"$F/0002_c.sql"
write_journal "$F"
paused_migrate roles2 4345 "$F"
q 'ALTER TABLE t ADD COLUMN z integer'
resume_paused roles2 4345
assert_eq 0 "$RC" "roles: the second migration completes ($(cat "$WORK/roles2.err"))"
assert_contains "$(cat "$WORK/roles2.err")" "cannot tell those changes apart" "roles: a change to the migration's own table is taken in, and said"
run drift
assert_eq 0 "$RC" "roles: taken in, so no drift ($OUT)"


# --- --resume after the index was built by hand, as drift's advice says: the statement is
# skipped (the index exists and is valid), and the index is the migration's from then on.
# It was reported as "exists but no migration created it" for good (the skip left no row of
# dbkit's own, so the hand build looked like drift apart from the run).
case_begin "resume after the index was built by hand"
F=$WORK/resume_hand
mkdir -p "$F"
printf 'CREATE TABLE "y" ("id" integer PRIMARY KEY, "b" integer);\n--> statement-breakpoint\nINSERT INTO y VALUES (1, 1), (2, 1);\n' >"$F/0000_t.sql"
write_journal "$F"
fresh_db hardening_resume_hand
run migrate --dir "$F"
assert_eq 0 "$RC" "resume hand: 0000 applied ($ERR)"
printf 'CREATE UNIQUE INDEX CONCURRENTLY "y_b" ON "y" USING btree ("b");\n' >"$F/0001_idx.sql"
write_journal "$F"
run migrate --dir "$F"
assert_eq 1 "$RC" "resume hand: the build fails on duplicates"
q "DELETE FROM y WHERE id = 2"
q "DROP INDEX CONCURRENTLY y_b"
q 'CREATE UNIQUE INDEX CONCURRENTLY "y_b" ON "y" USING btree ("b")'
run migrate --dir "$F" --resume
assert_eq 0 "$RC" "resume hand: --resume exits 0 ($ERR)"
assert_contains "$ERR" "completed before the interruption" "resume hand: the statement is skipped"
assert_contains "$ERR" "cannot tell those changes apart" "resume hand: the hand build of the migration's index is taken in, and said"
run drift
assert_eq 0 "$RC" "resume hand: the index is the migration's, no drift ($OUT)"
assert_eq "t" "$(q "SELECT dbkit.reference() - 'dbkit:format' = dbkit_snapshot(full => true) - 'dbkit:format'")" \
	"resume hand: the stored reference is the full read"


# --- the full comparison during a run leaves out dbkit's own tables only while no change
# by hand reaches them: an index made by hand on the table the migration altered is
# reported (leaving out the table's parts had hidden it, where the dirty path showed it)
case_begin "a hand change on the migration's table during its run, roles changed"
F=$WORK/own_table
mkdir -p "$F"
printf 'CREATE TABLE "t" ("id" integer PRIMARY KEY, "a" integer, "b" integer);\n' >"$F/0000_t.sql"
write_journal "$F"
fresh_db hardening_own_table
run migrate --dir "$F"
assert_eq 0 "$RC" "own table: 0000 applied ($ERR)"
printf -- '-- dbkit:no-transaction\nALTER TABLE "t" ADD CONSTRAINT "t_a_check" CHECK (a > 0) NOT VALID;\n--> statement-breakpoint\nSELECT 1 FROM pg_catalog.pg_advisory_xact_lock_shared(4346);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "t_b" ON "t" ("b");\n' >"$F/0001_c.sql"
write_journal "$F"
paused_migrate own 4346 "$F"
q 'CREATE INDEX t_hand ON t (b)'
run drift
assert_eq 4 "$RC" "own table: the index made by hand is drift ($OUT)"
assert_contains "$OUT" "public.t_hand" "own table: it is named"
q 'CREATE ROLE dbkit_own_role'
assert_eq "" "$(q "SELECT dbkit._dirty_set()")" "own table: a new role forces the full comparison"
run drift
assert_eq 4 "$RC" "own table: full comparison: the index made by hand is drift ($OUT)"
assert_contains "$OUT" "public.t_hand" "own table: full comparison: it is named"
q 'DROP ROLE dbkit_own_role'
resume_paused own 4346
assert_eq 0 "$RC" "own table: the migration completes ($(cat "$WORK/own.err"))"
assert_contains "$(cat "$WORK/own.err")" "cannot tell those changes apart" "own table: a change on the migration's own table is taken in, and said"
assert_eq t "$(q "SELECT (detail->>'absorbed_drift')::bool AND (detail->>'ddl_during_run')::bool FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")" \
	"own table: the event records it (absorbed_drift, ddl_during_run)"

# While a non-transactional migration runs, status called it interrupted and advised
# --resume or mark-applied, which would record a half-run migration (found by an attack).
case_begin "status: a run in progress is running, not stopped"
fresh_db hardening_live
L=$WORK/live
mkdir -p "$L"
printf 'CREATE TABLE "a" ("id" integer);\n' >"$L/0000_a.sql"
printf '%s\n' '-- dbkit:no-transaction' 'INSERT INTO a VALUES (1);' '--> statement-breakpoint' 'SELECT pg_sleep(3);' \
	'--> statement-breakpoint' 'INSERT INTO a VALUES (2);' >"$L/0001_chain.sql"
write_journal "$L"
"$DBKIT" migrate --dir "$L" >"$WORK/live.out" 2>&1 &
LIVE=$!
for _ in $(seq 100); do [[ $(q "SELECT count(*) FROM dbkit.progress WHERE next_statement = 2" 2>/dev/null) == 1 ]] && break; sleep 0.05; done
run status --dir "$L"
assert_contains "$OUT" "running now at statement 2 of 3, by pid" "status --dir: running now, with who runs it"
assert_not_contains "$OUT" "--resume" "status --dir: no advice to resume a live run"
run status
assert_contains "$OUT" "running: non-transactional migration 0001_chain at statement 2 of 3" "status: the same"
assert_not_contains "$OUT" "mark-applied" "status: no advice to mark it applied"
wait "$LIVE"
assert_eq 2 "$(q "SELECT count(*) FROM a")" "status: the run finished on its own"

finish
