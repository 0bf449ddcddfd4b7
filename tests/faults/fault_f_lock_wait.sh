#!/usr/bin/env bash
# (f) A migration waits on a lock another session holds, then that session ends:
# dbkit migrate visibly waits (pg_stat_activity wait_event_type = 'Lock'), then
# finishes with exit 0 and everything applied once. The holder ends by COMMIT, by
# disconnecting (its transaction rolls back), by pg_terminate_backend, by kill -9 of
# its psql; and a session holding dbkit's own advisory lock (another deploy) ends.
# Then a table no migration touches, locked for the whole run: the run still finishes
# (its end-of-run snapshot waits at most 2 s and is skipped), also when that becomes a deadlock.
source "$(dirname "$0")/lib.sh"
fault_start
N=8 PRE=2

# lock_case LABEL DB HOLD WAIT_EVENT END [GATE]: HOLD takes the lock, END ends the holder.
lock_case() {
	local label=$1 db=$2 hold=$3 ev=$4 end=$5 gate=${6:--1} pid
	case_begin "$label"
	fresh_db "$db"
	make_folder "$WORK/$db-pre" $PRE
	if ((gate >= 0)); then make_folder "$WORK/$db" $N gate@"$gate"; else make_folder "$WORK/$db" $N; fi
	run migrate --dir "$WORK/$db-pre"
	local ev0
	ev0=$(apply_events)
	"$hold"
	start_migrate "$WORK/$db"
	if ! pid=$(dbkit_waiting_pid "$ev"); then
		fail "$label: dbkit migrate never waited on the lock ($ev): $(cat "$WORK/client.err")"
		release_holder
		wait_migrate
		return 0
	fi
	sleep 1
	local still
	still=$(q "SELECT coalesce(wait_event_type || '/' || wait_event, 'running') FROM pg_stat_activity WHERE pid = $pid AND state = 'active'")
	# (Lock/..., or between two attempts if dbkit_apply retries after its own lock_timeout)
	if [[ -n $still && ! -e $WORK/client.rc ]]; then
		pass "$label: dbkit migrate waits (backend $pid: pg_stat_activity wait_event_type/wait_event = Lock/$ev, 1 s later $still)"
	else
		fail "$label: dbkit migrate is not waiting on the lock: [$still] client rc [$(cat "$WORK/client.rc" 2>/dev/null)]"
	fi
	"$end"
	wait_client_exit 30
	if [[ $CRC == 0 && $COUT == *"applied $((N - PRE)) migrations"* ]]; then
		pass "$label: after the holder ended, dbkit migrate exits 0: $(tail -1 <<<"$COUT")"
	else
		fail "$label: dbkit migrate exited $CRC: $COUT $CERR"
	fi
	assert_eq after "$(db_state $PRE $N "$gate" "$ev0")" "$label: the whole run is applied (schema and history agree)"
	assert_next_migrate_completes "$label" "$WORK/$db" $N
}

end_commit() { release_holder; }
end_disconnect() { holder_close; }
end_terminate() {
	assert_eq t "$(q "SELECT pg_terminate_backend($HOLDER_BACKEND)")" "pg_terminate_backend of the holder ($HOLDER_BACKEND)"
	holder_close
}
end_kill_psql() {
	kill -9 "$HOLDER_PID"
	holder_close
}

lock_case "lock/commit" lw_commit hold_gate relation end_commit 4
lock_case "lock/disconnect" lw_disconnect hold_gate relation end_disconnect 4
lock_case "lock/holder-terminated" lw_term hold_gate relation end_terminate 4
lock_case "lock/holder-psql-killed" lw_kill hold_gate relation end_kill_psql 4
lock_case "lock/advisory-held-by-another-deploy" lw_adv hold_advisory advisory end_disconnect

# README.md names the deploy lock a DBA can take by hand (CALL dbkit_deploy_lock()), which is
# the lock the lock/advisory case above holds and sees dbkit wait on.
case_begin lock/readme-deploy-lock
assert_eq 1 "$(grep -c 'CALL dbkit_deploy_lock()' "$DBKIT_SRC/README.md" | awk '{print ($1 > 0)}')" \
	"$CASE: README.md names CALL dbkit_deploy_lock(), the lock the case above holds"

# A table no pending migration touches, with an index, locked ACCESS EXCLUSIVE by another
# session for the whole run. docs/design.md: reading the catalogs' expressions for the
# schema snapshot locks tables, so that read waits at most 2 s and is skipped (the run
# says so, the event records snapshot_skipped) on a first run; once a reference exists the
# run re-reads only what it touched and the unrelated lock does not matter. So the run finishes, exit 0, while the
# holder still holds its lock; every migration is applied once.
unrelated_case() { # label db pre
	local label=$1 db=$2 pre=$3
	case_begin "$label"
	fresh_db "$db"
	q "CREATE TABLE unrelated (id int PRIMARY KEY)"
	make_folder "$WORK/$db" $N gate@4
	if ((pre > 0)); then
		make_folder "$WORK/$db-pre" "$pre"
		run migrate --dir "$WORK/$db-pre"
		assert_eq 0 "$RC" "$label: setup: $pre migrations applied"
	fi
	start_holder "BEGIN; LOCK TABLE unrelated IN ACCESS EXCLUSIVE MODE;"
	start_migrate "$WORK/$db"
	wait_client_exit 60
	assert_eq t "$(q "SELECT count(*) > 0 FROM pg_locks WHERE pid = $HOLDER_BACKEND AND granted AND relation = 'unrelated'::regclass")" \
		"$label: the holder still holds table unrelated when the run has ended"
	if [[ $CRC == 0 && $COUT == *"applied $((N - pre)) migrations"* ]]; then pass "$label: dbkit migrate exits 0 with the lock still held: $(tail -1 <<<"$COUT")"; else
		fail "$label: dbkit migrate exited $CRC: $COUT $CERR"
	fi
	if ((pre > 0)); then
		# a reference exists: the run re-reads only what it touched (issue 14 item 1), so a
		# lock on a table it never touched does not stop its reference
		assert_eq 0 "$(grep -c 'the schema snapshot was not recorded' <<<"$CERR" || true)" \
			"$label: the run records its reference (incremental: the unrelated table is not read)"
		assert_eq "" "$(q "SELECT detail ->> 'snapshot_skipped' FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")" \
			"$label: the apply event records no snapshot_skipped"
	else
		assert_contains "$CERR" "the schema snapshot was not recorded: another session holds a table locked" "$label: the run says it skipped its snapshot"
		assert_eq true "$(q "SELECT detail ->> 'snapshot_skipped' FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")" \
			"$label: the apply event records snapshot_skipped"
	fi
	assert_all_or_nothing "$label" "$pre" $N 4 "$( ((pre > 0)) && echo 1 || echo 0)"
	assert_eq after "$STATE" "$label: the run is applied"
	release_holder
	assert_next_migrate_completes "$label" "$WORK/$db" $N
	if ((pre > 0)); then
		run drift
		assert_eq 0 "$RC" "$label: no drift afterwards: the reference it recorded is the schema ($OUT $ERR)"
	fi
}
unrelated_case "lock/unrelated-table (history and snapshot exist)" lw_unrel_pre 2
unrelated_case "lock/unrelated-table (first run)" lw_unrel_first 0

# The same on a first run, and the holder then reads a table the run altered (gate, by
# migration 4) while the run waits for its snapshot: a deadlock, or the 2 s wait ends
# first. Either way dbkit's run is not the victim: its snapshot read is, so the run
# commits without it (exit 0, fully after).
case_begin "lock/unrelated-table deadlock"
fresh_db lw_deadlock
q "CREATE TABLE unrelated (id int PRIMARY KEY)"
make_folder "$WORK/dl" $N gate@4
start_holder "BEGIN; LOCK TABLE unrelated IN ACCESS EXCLUSIVE MODE;"
start_migrate "$WORK/dl"
if wait_for 30 "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'unrelated'::regclass" >/dev/null; then
	pass "$CASE: dbkit waits for table unrelated (its end-of-run snapshot)"
else
	fail "$CASE: dbkit migrate never waited on table 'unrelated': $(cat "$WORK/client.err")"
fi
holder_send "SELECT count(*) FROM gate;"
holder_send "COMMIT;"
holder_close
wait_client_exit 60
if [[ $CRC == 0 ]]; then pass "$CASE: dbkit migrate exits 0"; else fail "$CASE: dbkit migrate exited $CRC: $CERR"; fi
assert_all_or_nothing "$CASE" 0 $N 4 0
assert_eq after "$STATE" "$CASE: the run is applied"
assert_next_migrate_completes "$CASE" "$WORK/dl" $N

fault_finish "migrate waited on a lock (gate: ALTER of migration 4; dbkit's advisory lock) then finished with exit 0, 6/6 applied once, when the holder committed, disconnected, was terminated, was killed -9; a lock on an unrelated table only skips the end-of-run snapshot"
