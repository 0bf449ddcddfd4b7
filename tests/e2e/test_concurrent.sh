#!/usr/bin/env bash
# Eight clients started at once on a fresh database: all exit 0, and every
# migration is applied and recorded exactly once. A session holds dbkit's deploy
# lock (CALL dbkit_deploy_lock(), as a ninth deploy would) until all eight clients are
# seen waiting for it in pg_locks, so the eight runs certainly overlap; then it ends.
source "$(dirname "$0")/lib.sh"
F=$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations
n=$(ls "$F"/*.sql | wc -l)
fresh_db concurrent

case_begin concurrent/eight-clients-overlap
PGAPPNAME=dbkit_e2e_holder "${PSQL[@]}" -c "CALL dbkit_deploy_lock()" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
holder_job=$!
E2E_CLEANUP+=("kill $holder_job 2>/dev/null")
wait_until 60 "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'dbkit_e2e_holder'
	AND l.locktype = 'advisory' AND l.granted" >/dev/null || fail "the holder never got dbkit's advisory lock"
pids=()
for k in $(seq 1 8); do
	"$DBKIT" migrate --dir "$F" >"$WORK/out.$k" 2>"$WORK/err.$k" &
	pids+=($!)
done
if waiting=$(wait_until 120 "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database =
	(SELECT oid FROM pg_database WHERE datname = current_database()) HAVING count(*) = 8"); then
	pass "all 8 clients wait on dbkit's advisory lock at the same time ($waiting waiting in pg_locks)"
else
	fail "the 8 clients were never all waiting on dbkit's advisory lock: $(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")"
fi
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dbkit_e2e_holder'" >/dev/null
wait "$holder_job" 2>/dev/null || true

case_begin concurrent/each-migration-once
applied_by=0
for k in $(seq 1 8); do
	if wait "${pids[$((k - 1))]}"; then pass "client $k exits 0"; else fail "client $k exited non-zero: $(cat "$WORK/err.$k")"; fi
	grep -q "applied $n migrations" "$WORK/out.$k" && applied_by=$((applied_by + 1))
done
assert_eq 1 "$applied_by" "exactly one client applied the folder; the others found nothing pending"
assert_eq "$n" "$(q 'SELECT count(*) FROM dbkit.migrations')" "$n history rows"
assert_eq "$n" "$(q 'SELECT count(DISTINCT tag) FROM dbkit.migrations')" "each migration recorded once"
assert_eq "$n" "$(q 'SELECT count(*) FROM drizzle.__drizzle_migrations')" "drizzle's table has one row per migration"
finish
