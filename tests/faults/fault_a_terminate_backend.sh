#!/usr/bin/env bash
# (a) pg_terminate_backend of dbkit's backend in the middle of a run: once while it
# waits on a lock in migration 6 of 12, once while it sleeps there. The run must be
# rolled back entirely, the client must fail and say so, the next migrate completes.
source "$(dirname "$0")/lib.sh"
fault_start

terminate() {
	assert_eq t "$(q "SELECT pg_terminate_backend($BACKEND)")" "pg_terminate_backend($BACKEND)"
}
states=()
for wait in gate sleep; do
	crash_case "terminate/$wait" "term_$wait" "$wait" terminate before
	states+=("$wait:$STATE")
	if [[ $CRC != 0 && $CERR == *"terminating connection due to administrator command"* ]]; then
		pass "terminate/$wait: the client exits $CRC naming the termination"
	else
		fail "terminate/$wait: the client exited $CRC: $CERR"
	fi
done
fault_finish "pg_terminate_backend mid-run (lock wait, pg_sleep): rolled back (${states[*]}), client exit $CRC, next migrate applied 12/12 once"
