#!/usr/bin/env bash
# (f) A migration waits on a lock another session holds, then that session ends:
# dbkit migrate visibly waits (pg_stat_activity wait_event_type = 'Lock'), then
# finishes with exit 0 and everything applied once. The holder ends by COMMIT, by
# disconnecting (its transaction rolls back), by pg_terminate_backend, by kill -9 of
# its psql; and a session holding dbkit's own advisory lock (another deploy) ends.
# Two more cases record how dbkit behaves when a table no migration touches is locked.
source "$(dirname "$0")/lib.sh"
fault_start
N=8 PRE=2

# lock_case LABEL DB HOLD WAIT_EVENT END [GATE]: HOLD takes the lock, END ends the holder.
lock_case() {
	local label=$1 db=$2 hold=$3 ev=$4 end=$5 gate=${6:--1} pid
	echo "-- $label"
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

# README.md gives the advisory lock's key in decimal: is it dbkit's key?
readme_key=$(grep -o 'pg_advisory_xact_lock([0-9]*)' "$DBKIT_SRC/README.md" | grep -o '[0-9][0-9]*' | head -1 || true)
if [[ -n $readme_key && $readme_key != $((0x64626b6974)) ]]; then
	echo "-- lock/readme-key"
	fresh_db lw_readme
	make_folder "$WORK/readme" 3
	start_holder "SELECT pg_advisory_lock($readme_key);"
	run migrate --dir "$WORK/readme"
	note "lock/readme-key: README.md says dbkit takes pg_advisory_xact_lock($readme_key), but its key 0x64626b6974 is $((0x64626b6974)): with pg_advisory_lock($readme_key) held by another session, dbkit migrate did not wait (exit $RC: $(tail -1 <<<"$OUT"))"
	holder_close
fi

# A table no pending migration touches, with an index, locked ACCESS EXCLUSIVE by another
# session. Recorded as observations (see README): dbkit's schema snapshot reads index and
# default definitions with pg_get_indexdef/pg_get_expr, which lock the table.
unrelated_case() { # label db pre
	local label=$1 db=$2 pre=$3 pid where
	echo "-- $label"
	fresh_db "$db"
	q "CREATE TABLE unrelated (id int PRIMARY KEY)"
	make_folder "$WORK/$db" $N gate@4
	if ((pre > 0)); then
		make_folder "$WORK/$db-pre" "$pre"
		run migrate --dir "$WORK/$db-pre"
	fi
	start_holder "BEGIN; LOCK TABLE unrelated IN ACCESS EXCLUSIVE MODE;"
	start_migrate "$WORK/$db"
	local mode
	if mode=$(wait_for 5 "SELECT a.pid || ' ' || l.mode FROM pg_stat_activity a JOIN pg_locks l USING (pid) WHERE a.application_name = 'dbkit'
		AND a.datname = current_database() AND a.wait_event_type = 'Lock' AND NOT l.granted AND l.relation = 'unrelated'::regclass"); then
		pid=${mode%% *} mode=${mode#* }
		where=$(q "SELECT count(*) FROM pg_locks WHERE pid = $pid AND granted AND mode = 'AccessExclusiveLock' AND relation NOT IN (SELECT oid FROM pg_class)")
		local blocked
		blocked=$(PGOPTIONS="-c lock_timeout=300ms" "${PSQL[@]}" -c "SELECT count(*) FROM gate" 2>&1 | tr '\n' ' ') || true
		note "$label: dbkit migrate waits for $mode on table 'unrelated' (no migration touches it), holding $where ACCESS EXCLUSIVE locks on relations its run created; a reader of table gate (altered by migration 4) meanwhile gets: $blocked"
	else
		note "$label: dbkit migrate did not wait on table 'unrelated'"
	fi
	release_holder
	wait_client_exit 30
	if [[ $CRC == 0 ]]; then pass "$label: dbkit migrate exits 0 once the holder commits"; else fail "$label: dbkit migrate exited $CRC: $CERR"; fi
	assert_next_migrate_completes "$label" "$WORK/$db" $N
}
unrelated_case "lock/unrelated-table (history and snapshot exist)" lw_unrel_pre 2
unrelated_case "lock/unrelated-table (first run)" lw_unrel_first 0

# The same lock held for 7 s on a first run: does the run survive a longer wait at its end?
echo "-- lock/unrelated-table held 7 s"
fresh_db lw_long
q "CREATE TABLE unrelated (id int PRIMARY KEY)"
make_folder "$WORK/long" $N
start_holder "BEGIN; LOCK TABLE unrelated IN ACCESS EXCLUSIVE MODE;"
start_migrate "$WORK/long"
if wait_for 10 "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'unrelated'::regclass" >/dev/null; then
	sleep 7
	release_holder
	wait_client_exit 60
	note "lock/unrelated-table held 7 s: dbkit migrate exit $CRC: $(tr '\n' ' ' <<<"$COUT $CERR" | tr -s ' ' | head -c 400)"
	assert_all_or_nothing "lock/unrelated-table held 7 s" 0 $N -1 0
	assert_next_migrate_completes "lock/unrelated-table held 7 s" "$WORK/long" $N
else
	note "lock/unrelated-table held 7 s: dbkit migrate did not wait on table 'unrelated'"
	release_holder
	wait_client_exit 30
fi

# The same on a first run, and the holder then reads a table the run altered: a deadlock.
echo "-- lock/unrelated-table deadlock"
fresh_db lw_deadlock
q "CREATE TABLE unrelated (id int PRIMARY KEY)"
make_folder "$WORK/dl" $N gate@4
start_holder "BEGIN; LOCK TABLE unrelated IN ACCESS EXCLUSIVE MODE;"
start_migrate "$WORK/dl"
if wait_for 10 "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 'unrelated'::regclass" >/dev/null; then
	holder_send "SELECT count(*) FROM gate;"
	holder_send "COMMIT;"
	holder_close
	wait_client_exit 30
	note "lock/unrelated-table deadlock: the holder read gate: dbkit migrate exit $CRC: $(tr '\n' ' ' <<<"$CERR" | tr -s ' ' | head -c 400)"
	assert_all_or_nothing "lock/unrelated-table deadlock" 0 $N 4 0
	assert_next_migrate_completes "lock/unrelated-table deadlock" "$WORK/dl" $N
else
	note "lock/unrelated-table deadlock: dbkit migrate did not wait on table 'unrelated'"
	release_holder
	wait_client_exit 30
fi

fault_finish "migrate waited on a lock (gate: ALTER of migration 4; dbkit's advisory lock) then finished with exit 0, 6/6 applied once, when the holder committed, disconnected, was terminated, was killed -9"
