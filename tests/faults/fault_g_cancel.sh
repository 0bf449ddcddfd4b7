#!/usr/bin/env bash
# (g) The statement is cancelled but the session survives: pg_cancel_backend during the
# lock wait of migration 6, the session's lock_timeout (unless dbkit_apply sets its own),
# statement_timeout during a pg_sleep. The run must be rolled back entirely, the client
# must fail naming the migration, and the next migrate completes. Then, in one psql
# session calling dbkit_apply() directly: an apply cancelled by statement_timeout leaves
# the session clean (the DDL audit is on again, and the next dbkit_apply in the same
# session applies everything).
source "$(dirname "$0")/lib.sh"
fault_start

cancel() { assert_eq t "$(q "SELECT pg_cancel_backend($BACKEND)")" "pg_cancel_backend($BACKEND)"; }
let_it_time_out() { wait_client_exit 15; }
# The session's lock_timeout, unless dbkit_apply sets its own per statement (SET LOCAL
# lock_timeout, with retries): then the backend still waits, and the holder's commit
# lets the run finish.
TIMED_OUT=yes
lock_timeout_or_not() {
	local deadline=$((SECONDS + 6))
	while [[ ! -e $WORK/client.rc ]] && ((SECONDS <= deadline)); do sleep 0.1; done
	if [[ -e $WORK/client.rc ]]; then
		TIMED_OUT=yes
	else
		TIMED_OUT=no
		note "lock_timeout/gate: 6 s after the session's lock_timeout (1.5 s) the run still waits ($(q "SELECT coalesce(wait_event_type || '/' || wait_event, 'running') FROM pg_stat_activity WHERE pid = $BACKEND")): dbkit_apply sets its own lock_timeout for each migration, the session's does not apply"
	fi
}
check_client() { # label message
	if [[ $CRC == 1 && $CERR == *"$2"* && $CERR == *"0006_step_6"* ]]; then
		pass "$1: the client exits 1 naming migration 0006_step_6 and: $2"
	else
		fail "$1: the client exited $CRC: $CERR"
	fi
}
states=()
crash_case "cancel/gate" cancel_gate gate cancel before
check_client cancel/gate "canceling statement due to user request"
states+=("pg_cancel_backend:$STATE")
CLIENT_PGOPTIONS="-c lock_timeout=1500ms" crash_case "lock_timeout/gate" lt_gate gate lock_timeout_or_not any
if [[ $TIMED_OUT == yes ]]; then
	check_client lock_timeout/gate "canceling statement due to lock timeout"
	assert_eq before "$STATE" "lock_timeout/gate: the timed-out run is before"
	states+=("lock_timeout:$STATE")
else
	assert_eq "0 after" "$CRC $STATE" "lock_timeout/gate: once the holder committed, the run finished (exit 0, after)"
	states+=("lock_timeout:overridden-by-dbkit,$STATE")
fi
CLIENT_PGOPTIONS="-c statement_timeout=1500ms" crash_case "statement_timeout/sleep" st_sleep sleep let_it_time_out before
check_client statement_timeout/sleep "canceling statement due to statement timeout"
states+=("statement_timeout:$STATE")

echo "-- cancel/same-session"
fresh_db same_session
make_folder "$WORK/s" 6 gate@3
payload=$(jq -n --rawfile j "$WORK/s/meta/_journal.json" '{journal: $j, files: {}}')
for f in "$WORK"/s/*.sql; do
	payload=$(jq --arg n "$(basename "$f")" --rawfile t "$f" '.files[$n] = $t' <<<"$payload")
done
hold_gate
out=$("${PSQL[@]}" -v ON_ERROR_STOP=0 -v payload="$payload" 2>&1 <<'SQL' || true
SET application_name = 'same_session';
SET statement_timeout = '1s';
SELECT count(*) FROM dbkit_apply(:'payload'::jsonb);
RESET statement_timeout;
SELECT 'audit_after_cancel=' || count(*) FROM dbkit.ddl_audit WHERE object_identity LIKE '%after_cancel%';
CREATE TABLE after_cancel (i int);
SELECT 'audit_after_cancel=' || count(*) FROM dbkit.ddl_audit WHERE object_identity LIKE '%after_cancel%';
SELECT 'history=' || count(*) FROM dbkit.migrations;
SELECT 'holder_terminated=' || pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fault_holder';
SELECT pg_sleep(0.2);
SELECT 'applied=' || count(*) FILTER (WHERE action = 'applied') FROM dbkit_apply(:'payload'::jsonb);
SQL
)
assert_contains "$out" "canceling statement due to statement timeout" "cancel/same-session: dbkit_apply() waiting in migration 3 is cancelled by statement_timeout"
assert_contains "$out" "history=0" "cancel/same-session: nothing of it recorded"
if [[ $out == *"audit_after_cancel=0"*"audit_after_cancel=1"* ]]; then
	pass "cancel/same-session: DDL run in the same session after the cancelled apply is audited again"
else
	fail "cancel/same-session: the DDL audit missed DDL run after a cancelled apply: $out"
fi
holder_close
assert_contains "$out" "applied=6" "cancel/same-session: once the holder is gone, dbkit_apply in the same session applies all 6"
assert_eq "6 6" "$(q "SELECT count(*) || ' ' || count(DISTINCT k) FROM mig_ledger")" "cancel/same-session: each migration ran once"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.ddl_audit WHERE object_identity LIKE '%mig\_%'")" "cancel/same-session: dbkit's own DDL is not in the audit"
fault_finish "cancel mid-run (${states[*]}): client exit 1 naming 0006_step_6, rolled back, next migrate applied 12/12 once; a session survives a cancelled dbkit_apply clean"
