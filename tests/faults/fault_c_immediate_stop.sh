#!/usr/bin/env bash
# (c) pg_ctl stop -m immediate in the middle of a run, then start the server again
# (crash recovery from the WAL, fsync on). Once during a lock wait, once during a
# pg_sleep; and, for comparison, pg_ctl stop -m fast (sessions terminated, clean
# shutdown). The run must be gone entirely; the next migrate completes.
source "$(dirname "$0")/lib.sh"
fault_start

MODE=immediate
stop_start() {
	pg_server_stop "$MODE"
	pass "pg_ctl stop -m $MODE"
	pg_server_start
	if wait_server_ready; then pass "pg_ctl start: the server accepts connections"; else
		fail "the server did not come back: $(tail -5 "$PG_CLUSTER_DIR/server.log")"
	fi
}
states=()
for wait in gate sleep; do
	crash_case "immediate-stop/$wait" "imm_$wait" "$wait" stop_start before
	states+=("immediate/$wait:$STATE")
	if [[ $CRC != 0 && $CERR == *"connection"* ]]; then pass "immediate-stop/$wait: the client exits $CRC: connection lost"; else
		fail "immediate-stop/$wait: the client exited $CRC: $CERR"
	fi
done
if server_log_has "database system was not properly shut down; automatic recovery in progress" && server_log_has "redo done"; then
	pass "server log: not properly shut down, automatic recovery, redo done"
else
	fail "the server log does not show crash recovery"
fi
MODE=fast
crash_case "fast-stop/gate" "fast_gate" gate stop_start before
states+=("fast/gate:$STATE")
if [[ $CRC != 0 && $CERR == *"terminating connection due to administrator command"* ]]; then
	pass "fast-stop/gate: the client exits $CRC naming the termination"
else
	fail "fast-stop/gate: the client exited $CRC: $CERR"
fi
fault_finish "pg_ctl stop -m immediate (and -m fast) mid-run + start: run rolled back (${states[*]}), client exit $CRC, next migrate applied 12/12 once"
