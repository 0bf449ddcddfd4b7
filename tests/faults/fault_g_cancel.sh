#!/usr/bin/env bash
# (g) The statement is cancelled but the session survives: pg_cancel_backend during the
# lock wait of migration 6, dbkit's default lock_timeout (5 s, not the session's),
# statement_timeout during a pg_sleep. The run must be rolled back entirely, the client
# must fail naming the migration, and the next migrate completes. Then, in one psql
# session calling dbkit_apply() directly: an apply cancelled by statement_timeout leaves
# the session clean (the DDL audit is on again, and the next dbkit_apply in the same
# session applies everything).
source "$(dirname "$0")/lib.sh"
fault_start

cancel() { assert_eq t "$(q "SELECT pg_cancel_backend($BACKEND)")" "pg_cancel_backend($BACKEND)"; }
let_it_time_out() { wait_client_exit 15; }
# README (Lock safety): every statement runs with lock_timeout, default 5 s. The
# session's own lock_timeout (1.5 s here) does not apply: dbkit sets its own per
# migration. pg_locks.waitstart says when the ALTER of migration 6 began to wait; the
# client (--lock-retries 0) must exit no earlier than 5 s after that (a timeout never
# fires early) and, on a loaded machine, within a generous 30 s.
default_lock_timeout() {
	local ws t_end
	ws=$(q "SELECT extract(epoch FROM waitstart) FROM pg_locks WHERE pid = $BACKEND AND NOT granted AND relation = 'gate'::regclass")
	wait_client_exit 60
	t_end=$(date +%s.%N)
	WAITED=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$t_end" "${ws:-0}")
	if [[ -n $ws ]] && python3 -c "import sys; sys.exit(0 if 4.95 <= float(sys.argv[1]) <= 30 else 1)" "$WAITED"; then
		pass "$CASE: the lock wait ended after ${WAITED} s (default lock_timeout 5 s; the session's 1.5 s did not apply)"
	else
		fail "$CASE: the lock wait ended after ${WAITED} s (waitstart [$ws]), expected 5 s (the default lock_timeout) up to a 30 s ceiling"
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
CLIENT_ARGS="--lock-retries 0" CLIENT_PGOPTIONS="-c lock_timeout=1500ms" crash_case "lock_timeout/default-5s" lt_gate gate default_lock_timeout before
check_client lock_timeout/default-5s "canceling statement due to lock timeout"
states+=("lock_timeout:$STATE")
# the timeout covers the whole dbkit_apply call (migrations 2..5 as well), so it leaves room for a
# loaded machine; the sleep in migration 6 outlasts it
CRASH_SLEEP=60 CLIENT_PGOPTIONS="-c statement_timeout=6s" crash_case "statement_timeout/sleep" st_sleep sleep let_it_time_out before
check_client statement_timeout/sleep "canceling statement due to statement timeout"
states+=("statement_timeout:$STATE")

case_begin cancel/same-session
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
