#!/usr/bin/env bash
# (b) kill -9 of dbkit's backend in the middle of a run (lock wait, then pg_sleep).
# The postmaster treats it as a crash: it ends every backend, reinitialises shared
# memory and replays the WAL. The run must be gone entirely; the next migrate completes.
source "$(dirname "$0")/lib.sh"
fault_start

kill_backend() {
	kill -9 "$BACKEND"
	pass "kill -9 $BACKEND"
	if wait_server_ready; then pass "the server accepts connections again after crash recovery"; else
		fail "the server did not come back: $(tail -5 "$PG_CLUSTER_DIR/server.log")"
	fi
}
states=()
for wait in gate sleep; do
	crash_case "kill-backend/$wait" "kill_$wait" "$wait" kill_backend before
	states+=("$wait:$STATE")
	if [[ $CRC != 0 && $CERR == *"server closed the connection unexpectedly"* ]]; then
		pass "kill-backend/$wait: the client exits $CRC: connection lost"
	else
		fail "kill-backend/$wait: the client exited $CRC: $CERR"
	fi
done
if server_log_has "was terminated by signal 9: Killed" && server_log_has "all server processes terminated; reinitializing"; then
	pass "server log: backend killed by signal 9, all server processes terminated, reinitialized"
else
	fail "the server log does not show the crash and reinitialisation"
fi
fault_finish "kill -9 of the backend mid-run (lock wait, pg_sleep): crash recovery, run rolled back (${states[*]}), client exit $CRC, next migrate applied 12/12 once"
