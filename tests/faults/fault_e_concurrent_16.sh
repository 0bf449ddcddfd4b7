#!/usr/bin/env bash
# (e) Sixteen `dbkit migrate` started at once on one fresh database with a 50-migration
# folder: all exit 0, exactly one applies the folder, each migration is applied and
# recorded exactly once. Then the same with a fault: the client that won the advisory
# lock is held up in migration 25 (the gate) while the other fifteen visibly queue on
# dbkit's advisory lock; its backend is terminated; one of the fifteen takes over and
# applies all 50, the others find nothing to do.
source "$(dirname "$0")/lib.sh"
# Lock waits longer than 50 ms are logged: the evidence that the clients overlapped.
PG_CLUSTER_OPTS="-c log_lock_waits=on -c deadlock_timeout=50ms"
fault_start
N=50 C=16

start_clients() { # dir
	local k
	CPIDS=()
	for k in $(seq 1 $C); do
		"$DBKIT" migrate --dir "$1" >"$WORK/out.$k" 2>"$WORK/err.$k" 7>&- &
		CPIDS+=($!)
		BG_PIDS+=($!)
	done
}
collect_clients() { # sets OK_COUNT APPLIED_BY NOTHING_BY BAD
	local k
	OK_COUNT=0 APPLIED_BY=0 NOTHING_BY=0 BAD=()
	for k in $(seq 1 $C); do
		if wait "${CPIDS[$((k - 1))]}"; then OK_COUNT=$((OK_COUNT + 1)); else BAD+=("client $k exit $?: $(tr '\n' ' ' <"$WORK/err.$k")"); fi
		grep -q "applied $N migrations" "$WORK/out.$k" && APPLIED_BY=$((APPLIED_BY + 1))
		grep -q "nothing to apply: $N migrations already applied" "$WORK/out.$k" && NOTHING_BY=$((NOTHING_BY + 1))
	done
	return 0
}
assert_once() { # label
	assert_eq "$N $N" "$(q "SELECT count(*) || ' ' || count(DISTINCT tag) FROM dbkit.migrations")" "$1: $N history rows, one per tag"
	assert_eq "$N $N" "$(q "SELECT count(*) || ' ' || count(DISTINCT k) FROM mig_ledger")" "$1: every migration's statements ran once (ledger)"
	assert_eq "$N $N" "$(q "SELECT count(*) || ' ' || count(DISTINCT hash) FROM drizzle.__drizzle_migrations")" "$1: drizzle's table: one row per migration"
	assert_eq "$N" "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'mig\_%'")" "$1: all $N tables"
	assert_eq 1 "$(apply_events)" "$1: one apply run in dbkit.events"
}

echo "-- concurrent/plain"
fresh_db conc_plain
make_folder "$WORK/m" $N
t0=$(date +%s.%N)
start_clients "$WORK/m"
collect_clients
secs=$(echo "$(date +%s.%N) - $t0" | bc)
if ((OK_COUNT == C)); then pass "concurrent/plain: all $C clients exit 0 (${secs} s)"; else fail "concurrent/plain: ${BAD[*]}"; fi
assert_eq "1 $((C - 1))" "$APPLIED_BY $NOTHING_BY" "concurrent/plain: one client applied $N migrations, $((C - 1)) found nothing to apply"
assert_once concurrent/plain
waited=$(grep "still waiting for ExclusiveLock on advisory lock" "$PG_CLUSTER_DIR/server.log" | grep -o '\[[0-9]*\]' | sort -u | wc -l)
if ((waited > 0)); then pass "concurrent/plain: $waited clients waited on dbkit's advisory lock (server log)"; else
	info "concurrent/plain: no client waited more than 50 ms on the advisory lock (the runs did not overlap much)"
fi
plain="$OK_COUNT/$C exit 0 ($waited waited on the advisory lock), $APPLIED_BY applied, $NOTHING_BY nothing to apply"

echo "-- concurrent/winner-terminated"
fresh_db conc_fault
make_folder "$WORK/g" $N gate@25
hold_gate
start_clients "$WORK/g"
WINNER=$(dbkit_waiting_pid relation) || WINNER=
queued=$(wait_for 30 "SELECT NULLIF(count(*), 0) FROM pg_stat_activity WHERE application_name = 'dbkit'
	AND datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory' HAVING count(*) = $((C - 1))") || queued=0
if [[ -n $WINNER && $queued == $((C - 1)) ]]; then
	pass "concurrent/winner-terminated: backend $WINNER waits in migration 25, $queued clients wait on dbkit's advisory lock"
else
	fail "concurrent/winner-terminated: expected one client in migration 25 and $((C - 1)) on the advisory lock: winner=[$WINNER] queued=[$queued]"
fi
assert_eq t "$(q "SELECT pg_terminate_backend($WINNER)")" "concurrent/winner-terminated: pg_terminate_backend of the winner"
SECOND=$(wait_for 30 "SELECT pid FROM pg_stat_activity WHERE application_name = 'dbkit' AND datname = current_database()
	AND wait_event = 'relation' AND pid <> ${WINNER:-0}") || SECOND=
queued=$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbkit' AND datname = current_database() AND wait_event = 'advisory'")
if [[ -n $SECOND && $queued == $((C - 2)) ]]; then
	pass "concurrent/winner-terminated: another client (backend $SECOND) took over and waits in migration 25; $queued still queued"
else
	fail "concurrent/winner-terminated: no take-over: second=[$SECOND] queued=[$queued]"
fi
assert_eq "0 0" "$(q "SELECT count(*) FROM dbkit.migrations") $(q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'mig\_%'")" \
	"concurrent/winner-terminated: nothing of the terminated run is visible"
release_holder
collect_clients
if ((OK_COUNT == C - 1)) && [[ ${#BAD[@]} == 1 && ${BAD[0]} == *"terminating connection due to administrator command"* ]]; then
	pass "concurrent/winner-terminated: the terminated client failed naming the termination, the $((C - 1)) others exit 0"
else
	fail "concurrent/winner-terminated: $OK_COUNT exit 0; failures: ${BAD[*]}"
fi
assert_eq "1 $((C - 2))" "$APPLIED_BY $NOTHING_BY" "concurrent/winner-terminated: one client applied $N migrations, $((C - 2)) found nothing to apply"
assert_once concurrent/winner-terminated
assert_eq 1 "$(q "SELECT count(*) FROM pg_attribute WHERE attrelid = 'gate'::regclass AND attname = 'added_by_25'")" \
	"concurrent/winner-terminated: migration 25's ALTER TABLE gate ran once"
fault_finish "16 concurrent migrate, 50 migrations: $plain, each applied once; with the lock winner terminated mid-run: another client took over, $OK_COUNT/$C exit 0, $APPLIED_BY applied, $NOTHING_BY nothing to apply, each applied once"
