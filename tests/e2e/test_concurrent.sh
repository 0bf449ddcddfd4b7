#!/usr/bin/env bash
# Eight clients started at once on a fresh database: all exit 0, and every
# migration is applied and recorded exactly once.
source "$(dirname "$0")/lib.sh"
F=$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations
n=$(ls "$F"/*.sql | wc -l)
fresh_db concurrent
pids=()
for k in $(seq 1 8); do
	"$DBKIT" migrate --dir "$F" >"$WORK/out.$k" 2>"$WORK/err.$k" &
	pids+=($!)
done
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
