#!/usr/bin/env bash
# (d) kill -9 of the dbkit client process in the middle of a run.
# The backend only learns that its client is gone when it next talks to it (or, with
# client_connection_check_interval set, when it next checks the socket). Until then it
# keeps running the apply, so the run may be committed after the client died: the
# database must still be fully before or fully after the run, and the next migrate
# completes. Cases: blocked on a lock (released after the kill), pg_sleep, and blocked
# on a lock with client_connection_check_interval=200ms.
source "$(dirname "$0")/lib.sh"
fault_start

kill_client() {
	kill -9 "$DBKIT_PID"
	pass "kill -9 of the client (pid $DBKIT_PID)"
	sleep 1.5
	if backend_alive "$BACKEND"; then
		note "$LABEL: 1.5 s after the client died its backend $BACKEND is still there ($(q "SELECT state || ', ' || coalesce(wait_event_type || '/' || wait_event, 'running') FROM pg_stat_activity WHERE pid = $BACKEND"))"
	else
		note "$LABEL: the backend ended by itself within 1.5 s of the client's death"
	fi
}
kill_client_checked() {
	kill -9 "$DBKIT_PID"
	pass "kill -9 of the client (pid $DBKIT_PID)"
	local t0=$SECONDS
	if wait_backend_gone "$BACKEND" 10; then
		pass "$LABEL: with client_connection_check_interval the backend noticed the dead client and ended while still blocked on the lock (<= $((SECONDS - t0 + 1)) s)"
	else
		fail "$LABEL: the backend is still there 10 s after the client died"
	fi
}
states=()
LABEL=kill-client/gate
crash_case "$LABEL" kc_gate gate kill_client any
states+=("gate:$STATE")
LABEL=kill-client/sleep
crash_case "$LABEL" kc_sleep sleep kill_client any
states+=("sleep:$STATE")
LABEL=kill-client/gate+check_interval
CLIENT_PGOPTIONS="-c client_connection_check_interval=200ms" crash_case "$LABEL" kc_check gate kill_client_checked before
states+=("gate+client_connection_check_interval:$STATE")
if grep -q "could not send data to client\|connection to client lost\|could not receive data from client" "$PG_CLUSTER_DIR/server.log"; then
	note "server log: $(grep -o "could not send data to client.*\|connection to client lost.*\|could not receive data from client.*" "$PG_CLUSTER_DIR/server.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
fi
fault_finish "kill -9 of the client mid-run: all or nothing each time (${states[*]}), next migrate completed 12/12 once"
