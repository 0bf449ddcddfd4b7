#!/usr/bin/env bash
# Issue 16, items 3 and 4: dbkit's deploy lock.
#  3. Three concurrent `dbkit migrate` of a folder with CREATE INDEX CONCURRENTLY:
#     the waiting deploys hold no snapshot (pg_stat_activity.backend_xmin is null
#     while they wait), so the running CIC never waits for them; all exit 0, the
#     index is valid, each migration applied once, no 40P01.
#  4. A role that can only connect cannot block deploys (pg_advisory_lock on the
#     once-published key, either form, does not stop them) nor take dbkit's lock;
#     a privileged holder makes `dbkit migrate --wait` fail after the bound, exit 1,
#     naming the holder (pid, user, application, since when); repairs and
#     dbkit_apply from SQL wait on the same lock.
source "$(dirname "$0")/lib.sh"
chmod 755 "$WORK"
ROLES=(dk_lock_nobody dk_lock_monitor)
cleanup_roles() {
	local r
	for r in "${ROLES[@]}"; do
		"${PSQL[@]}" -d postgres -c "DROP OWNED BY $r" 2>/dev/null || true
		"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS $r" 2>/dev/null || true
	done
}
HOLDER_PIDS=()
cleanup() {
	local p
	for p in "${HOLDER_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	exec 7>&- 2>/dev/null || true
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS hlock WITH (FORCE)" 2>/dev/null || true
	cleanup_roles
	rm -rf "$WORK"
}
cleanup_roles
E2E_CLEANUP+=(cleanup)  # lib.sh's exit handler runs it

# wait_until SECONDS SQL: polls until SQL prints a non-empty value (prints it).
wait_until() {
	local deadline=$((SECONDS + $1)) v
	while ((SECONDS <= deadline)); do
		v=$("${PSQL[@]}" -c "$2" 2>/dev/null || true)
		if [[ -n $v ]]; then
			echo "$v"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
# start_holder ROLE APPNAME SQL: a psql session fed through a fifo (fd 7) that
# stays connected until holder_close. Sets HOLDER_PID.
start_holder() {
	rm -f "$WORK/holder.in"
	mkfifo "$WORK/holder.in"
	PGAPPNAME=$2 psql -X -A -t -q -U "$1" <"$WORK/holder.in" >"$WORK/holder.out" 2>&1 &
	HOLDER_PID=$!
	HOLDER_PIDS+=("$HOLDER_PID")
	exec 7>"$WORK/holder.in"
	echo "$3" >&7
}
holder_close() {
	exec 7>&-
	wait "$HOLDER_PID" 2>/dev/null || true
}
# The deploy lock as pg_locks shows it: advisory, fields 0x64 / 0x626b6974 / 219.
LOCK_WHERE="l.locktype = 'advisory' AND l.classid = 100 AND l.objid = 1651206516 AND l.objsubid = 219"

# A folder: a table with rows, a CONCURRENTLY index (non-transactional), data.
F=$WORK/m
mkdir -p "$F/meta"
cat >"$F/0000_users.sql" <<'SQL'
CREATE TABLE "users" ("id" integer PRIMARY KEY, "email" text NOT NULL);
--> statement-breakpoint
INSERT INTO "users" SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 50000) g;
--> statement-breakpoint
CREATE TABLE "ledger" ("k" text PRIMARY KEY);
--> statement-breakpoint
INSERT INTO "ledger" VALUES ('0000');
SQL
cat >"$F/0001_users_email.sql" <<'SQL'
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "users_email_unique" ON "users" USING btree ("email");
SQL
cat >"$F/0002_orgs.sql" <<'SQL'
CREATE TABLE "orgs" ("id" integer PRIMARY KEY);
--> statement-breakpoint
INSERT INTO "ledger" VALUES ('0002');
SQL
cat >"$F/meta/_journal.json" <<'JSON'
{"version":"7","dialect":"postgresql","entries":[
{"idx":0,"version":"7","when":1700000000000,"tag":"0000_users","breakpoints":true},
{"idx":1,"version":"7","when":1700000001000,"tag":"0001_users_email","breakpoints":true},
{"idx":2,"version":"7","when":1700000002000,"tag":"0002_orgs","breakpoints":true}]}
JSON

fresh_db hlock
"${PSQL[@]}" -d postgres -c "CREATE ROLE dk_lock_nobody LOGIN" -c "CREATE ROLE dk_lock_monitor LOGIN IN ROLE pg_monitor"

# ---------------------------------------------------------------------------
# item 3: three concurrent deploys, the first one running CREATE INDEX CONCURRENTLY
# ---------------------------------------------------------------------------
# A privileged session holds the lock first, so that all three visibly queue.
start_holder "$PGUSER" hl_gate "CALL dbkit_deploy_lock();"
wait_until 30 "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE $LOCK_WHERE AND l.granted AND a.application_name = 'hl_gate'" >/dev/null ||
	fail "the gate session never got the deploy lock: $(cat "$WORK/holder.out")"
pids=()
for k in 1 2 3; do
	"$DBKIT" migrate --dir "$F" >"$WORK/c.$k.out" 2>"$WORK/c.$k.err" 7>&- &
	pids+=($!)
done
if waiting=$(wait_until 60 "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
	AND application_name = 'dbkit' AND wait_event_type = 'Lock' AND wait_event = 'advisory' HAVING count(*) = 3"); then
	pass "three deploys wait for dbkit's deploy lock"
else
	fail "three deploys should wait on the deploy lock: $(q "SELECT string_agg(pid || ' ' || coalesce(wait_event, '-') || ' ' || left(query, 60), '; ') FROM pg_stat_activity WHERE application_name = 'dbkit'")"
fi
assert_eq "0" "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'dbkit'
	AND wait_event = 'advisory' AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)")" \
	"the waiting deploys hold no snapshot and no transaction id (a CREATE INDEX CONCURRENTLY need not wait for them)"
assert_eq "0" "$(q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'dbkit'
	AND l.locktype = 'relation' AND l.granted")" "the waiting deploys hold no relation lock"
holder_close
ok=0 applied_by=0
for k in 1 2 3; do
	if wait "${pids[$((k - 1))]}"; then ok=$((ok + 1)); else fail "deploy $k exited non-zero: $(cat "$WORK/c.$k.err")"; fi
	grep -q "applied 3 migrations" "$WORK/c.$k.out" && applied_by=$((applied_by + 1))
	assert_not_contains "$(cat "$WORK/c.$k.err")" "40P01" "deploy $k: no deadlock"
	assert_contains "$(cat "$WORK/c.$k.err")" "waiting up to 10min for dbkit's deploy lock" "deploy $k says it waits, and for whom"
done
assert_eq 3 "$ok" "three concurrent deploys with CREATE INDEX CONCURRENTLY all exit 0"
assert_eq 1 "$applied_by" "one deploy applied the folder, the others found nothing to do"
assert_eq "t|t" "$(q "SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = 'users_email_unique'::regclass")" "the index is valid"
assert_eq "3|3" "$(q "SELECT count(*), count(DISTINCT tag) FROM dbkit.migrations")" "each migration recorded once"
assert_eq "0000,0002" "$(q "SELECT string_agg(k, ',' ORDER BY k) FROM ledger")" "each data migration ran once"
assert_eq 3 "$(q 'SELECT count(*) FROM drizzle.__drizzle_migrations')" "drizzle's table has one row per migration"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.progress")" "no non-transactional migration left half-way"

# Without the gate: three at once, as a deploy pipeline would start them.
q "DROP INDEX users_email_unique; DROP TABLE users, ledger, orgs; TRUNCATE dbkit.migrations, dbkit.snapshots CASCADE; DROP SCHEMA drizzle CASCADE"
pids=()
for k in 1 2 3; do
	"$DBKIT" migrate --dir "$F" >"$WORK/c.$k.out" 2>"$WORK/c.$k.err" 7>&- &
	pids+=($!)
done
ok=0
for k in 1 2 3; do
	if wait "${pids[$((k - 1))]}"; then ok=$((ok + 1)); else fail "ungated deploy $k exited non-zero: $(cat "$WORK/c.$k.err")"; fi
done
assert_eq 3 "$ok" "three ungated concurrent deploys all exit 0"
assert_eq "t" "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_unique'::regclass")" "ungated: the index is valid"
assert_eq "3|3" "$(q "SELECT count(*), count(DISTINCT tag) FROM dbkit.migrations")" "ungated: each migration recorded once"

# ---------------------------------------------------------------------------
# item 4: who can take the lock
# ---------------------------------------------------------------------------
q "DROP INDEX users_email_unique; DROP TABLE users, ledger, orgs; TRUNCATE dbkit.migrations, dbkit.snapshots CASCADE; DROP SCHEMA drizzle CASCADE"
# The key the README used to publish, in both forms, held by a role that can only connect.
start_holder dk_lock_nobody hl_squatter "SELECT pg_advisory_lock(431147936116); SELECT pg_advisory_lock(100, 1651206516); SELECT pg_advisory_lock(x'64626b6974'::bigint);"
wait_until 30 "SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'hl_squatter' AND l.locktype = 'advisory' AND l.granted HAVING count(*) = 2" >/dev/null ||
	fail "the squatter never got its advisory locks: $(cat "$WORK/holder.out")"
set +e
timeout 120 "$DBKIT" migrate --dir "$F" --wait 30s >"$WORK/out" 2>"$WORK/err" 7>&-
RC=$?
set -e
assert_eq 0 "$RC" "an unprivileged role holding pg_advisory_lock(431147936116) does not block dbkit migrate: $(cat "$WORK/err")"
assert_not_contains "$(cat "$WORK/err")" "waiting" "and dbkit does not wait for it"
holder_close
for r in dk_lock_nobody dk_lock_monitor; do
	set +e
	out=$(psql -X -A -t -q -U "$r" -c "CALL dbkit_deploy_lock(0)" 2>&1)
	set -e
	assert_contains "$out" "may not take dbkit's deploy lock" "as $r: CALL dbkit_deploy_lock() is refused"
	assert_contains "$out" "dbkit_grant_deployer('$r')" "as $r: the refusal names the grant"
done
q "DROP INDEX users_email_unique; DROP TABLE users, ledger, orgs; TRUNCATE dbkit.migrations, dbkit.snapshots CASCADE; DROP SCHEMA drizzle CASCADE"

# A privileged holder: the wait is bounded and names it.
start_holder "$PGUSER" hl_holder_app "CALL dbkit_deploy_lock();"
HPID=$(wait_until 30 "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE $LOCK_WHERE AND l.granted AND a.application_name = 'hl_holder_app'") ||
	fail "the holder never got the deploy lock: $(cat "$WORK/holder.out")"
t0=$SECONDS
run migrate --dir "$F" --wait 2s
assert_eq 1 "$RC" "dbkit migrate --wait 2s exits 1 while another session holds the deploy lock"
((SECONDS - t0 >= 2 && SECONDS - t0 < 60)) && pass "it gave up after about 2 s ($((SECONDS - t0)) s)" || fail "it gave up after $((SECONDS - t0)) s"
assert_contains "$ERR" "waiting up to 2000 ms for dbkit's deploy lock" "it says it is waiting"
assert_contains "$ERR" "another session holds dbkit's deploy lock (waited 2000 ms): pid $HPID (user $PGUSER, application hl_holder_app" "the error names the holder: pid, user, application"
assert_contains "$ERR" "connected since" "the error says since when"
assert_contains "$ERR" "55P03" "with SQLSTATE 55P03"
assert_contains "$ERR" "--wait" "the hint names --wait"
assert_eq 0 "$(q 'SELECT count(*) FROM dbkit.migrations')" "nothing applied"
run migrate --dir "$F" --wait 0
assert_eq 1 "$RC" "--wait 0 fails at once"
assert_contains "$ERR" "pid $HPID" "--wait 0 names the holder too"
assert_contains "$ERR" "deploy lock is held (--wait 0: not waiting)" "--wait 0 says it does not wait"
run mark-applied 0000_users --dir "$F" --reason "test" --wait 1s
assert_eq 1 "$RC" "dbkit mark-applied waits on the same lock"
assert_contains "$ERR" "pid $HPID" "mark-applied names the holder"
run forget 0000_users --reason "test" --wait 1s
assert_eq 1 "$RC" "dbkit forget waits on the same lock"
PAYLOAD=$(python3 -c '
import json, os, sys
d = sys.argv[1]
p = {"journal": open(d + "/meta/_journal.json").read(), "files": {}}
for n in sorted(os.listdir(d)):
    if n.endswith(".sql"):
        p["files"][n] = open(os.path.join(d, n)).read()
print(json.dumps(p))' "$F")
set +e
out=$("${PSQL[@]}" -v ON_ERROR_STOP=0 -c "SELECT * FROM dbkit_apply('${PAYLOAD//\'/\'\'}', '{\"lock_wait\": 500}')" 2>&1)
set -e
assert_contains "$out" "another session holds dbkit's deploy lock (waited 500 ms): pid $HPID" "dbkit_apply from SQL: bounded by the lock_wait option, names the holder"
set +e
out=$(psql -X -A -t -q -U dk_lock_monitor -c "SELECT * FROM dbkit_apply('${PAYLOAD//\'/\'\'}', '{\"lock_wait\": 0}')" 2>&1)
set -e
assert_contains "$out" "permission denied for function dbkit_apply" "as a pg_monitor member: dbkit_apply is refused before taking the lock (not: waits for it): EXECUTE is not granted to PUBLIC"
assert_eq "$HPID" "$(q "SELECT substring(dbkit_deploy_lock_holder() from '^pid ([0-9]+)')")" "dbkit_deploy_lock_holder() names the holder"
holder_close
run migrate --dir "$F" --wait 30s
assert_eq 0 "$RC" "once the holder is gone, dbkit migrate applies: $ERR"
assert_eq "3|3" "$(q "SELECT count(*), count(DISTINCT tag) FROM dbkit.migrations")" "each migration recorded once"
wait_settled  # the worker re-reading the deploy's objects holds it for a moment
assert_eq "" "$(q "SELECT dbkit_deploy_lock_holder()")" "the lock is free after the deploy and its re-read"

# A procedure dbkit_deploy_lock() without arguments planted in the extension's schema (by a
# role that may create there) made the client's CALL ambiguous when it had to wait (found by
# an attack): the client always passes the wait.
q "CREATE PROCEDURE public.dbkit_deploy_lock() LANGUAGE sql AS 'SELECT 1'"
printf 'CREATE TABLE "planted" ("id" integer);\n' >"$F/0003_planted.sql"
write_journal "$F"
"${PSQL[@]}" -c "CALL dbkit_deploy_lock(0)" -c "SELECT pg_sleep(2)" >/dev/null 2>&1 &
SLEEPER=$!
for _ in $(seq 100); do [[ -n $(q "SELECT dbkit_deploy_lock_holder()") ]] && break; sleep 0.1; done
run migrate --dir "$F"
wait "$SLEEPER" || true
assert_eq 0 "$RC" "a planted dbkit_deploy_lock(): migrate waits for the lock and applies: $ERR"
assert_not_contains "$ERR" "is not unique" "a planted dbkit_deploy_lock(): no ambiguous call"
q "DROP PROCEDURE public.dbkit_deploy_lock()"

# Through pgbouncer in transaction mode one server session serves several clients, and an
# advisory lock is re-entrant within it: a second deploy "took" the lock the first held,
# told the user the first's running chain was interrupted, and its --resume ran a statement
# twice; the lock itself stayed with the pooled session after the deploy (found by an
# attack). Now the client releases the lock before it disconnects, and a deploy that finds
# its server session holding the lock already is refused, naming the pooler.
case_begin "pooler: pgbouncer in transaction mode"
PGB=$WORK/pgbouncer
mkdir -p "$PGB"
cat >"$PGB/pgb.ini" <<INI
[databases]
* = host=$PGHOST port=$PGPORT
[pgbouncer]
listen_addr =
listen_port = 6439
unix_socket_dir = $PGB
auth_type = trust
auth_file = $PGB/users.txt
pool_mode = transaction
default_pool_size = 1
logfile = $PGB/pgb.log
pidfile = $PGB/pgb.pid
INI
printf '"%s" ""\n' "$PGUSER" >"$PGB/users.txt"
chmod 755 "$WORK"
[[ $(id -u) -eq 0 ]] && chown -R postgres "$PGB"
as_pgb() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pgb pgbouncer -d "$PGB/pgb.ini"
E2E_CLEANUP+=('kill $(cat "$PGB/pgb.pid") 2>/dev/null')
for _ in $(seq 50); do [[ -S $PGB/.s.PGSQL.6439 ]] && break; sleep 0.1; done
POOLED="host=$PGB port=6439 dbname=$PGDATABASE user=$PGUSER"
printf 'CREATE TABLE "pooled" ("id" integer);\n' >"$F/0004_pooled.sql"
write_journal "$F"
run migrate --dir "$F" --url "$POOLED"
assert_eq 0 "$RC" "pooler: a deploy through it applies: $ERR"
wait_settled
assert_eq "" "$(q "SELECT dbkit_deploy_lock_holder()")" "pooler: and leaves the lock free (the pooled server session keeps nothing)"
# another client of the same pooled server session takes the lock and leaves it held
psql -X -q -d "$POOLED" -c "CALL dbkit_deploy_lock(0)"
assert_contains "$(q "SELECT dbkit_deploy_lock_holder()")" "idle" "pooler: the lock stays with the pooled server session"
printf 'CREATE TABLE "pooled2" ("id" integer);\n' >"$F/0005_pooled2.sql"
write_journal "$F"
run migrate --dir "$F" --url "$POOLED"
assert_eq 1 "$RC" "pooler: a deploy given that server session is refused, not let in"
assert_contains "$ERR" "this server session already holds dbkit's deploy lock: the connection goes through a pooler" "pooler: naming the pooler"
assert_contains "$ERR" "DK022" "pooler: with SQLSTATE DK022"
assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'pooled2'")" "pooler: nothing applied"
psql -X -q -d "$POOLED" -c "SELECT dbkit_deploy_unlock()" >/dev/null
run migrate --dir "$F" --url "$POOLED"
assert_eq 0 "$RC" "pooler: once released, the deploy applies: $ERR"
# A pooler that hands each transaction to another server session (round robin, warm
# connections): the deploy's next statement after CALL dbkit_deploy_lock() reached another
# one and waited on its own lock, which then stayed with the idle pooled session and
# stopped every later deploy, direct ones too (found by an attack). Now the client sees the
# holder is another session right after taking the lock, refuses (DK022) and ends that
# idle session as it exits; and a call whose "lock_pid" is not its server session is
# refused at once instead of waiting.
case_begin "pooler: each transaction in another server session"
cat >"$PGB/pgb_rr.ini" <<INI
[databases]
* = host=$PGHOST port=$PGPORT
[pgbouncer]
listen_addr =
listen_port = 6440
unix_socket_dir = $PGB
auth_type = trust
auth_file = $PGB/users.txt
pool_mode = transaction
default_pool_size = 3
min_pool_size = 3
server_round_robin = 1
logfile = $PGB/pgb_rr.log
pidfile = $PGB/pgb_rr.pid
INI
[[ $(id -u) -eq 0 ]] && chown -R postgres "$PGB"
as_pgb pgbouncer -d "$PGB/pgb_rr.ini"
E2E_CLEANUP+=('kill $(cat "$PGB/pgb_rr.pid") 2>/dev/null')
for _ in $(seq 50); do [[ -S $PGB/.s.PGSQL.6440 ]] && break; sleep 0.1; done
RR="host=$PGB port=6440 dbname=$PGDATABASE user=$PGUSER"
for i in 1 2 3; do psql -X -q -d "$RR" -c "SELECT pg_sleep(0.5)" >/dev/null & done
wait
printf 'CREATE TABLE "pooled3" ("id" integer);\n' >"$F/0006_pooled3.sql"
write_journal "$F"
run migrate --dir "$F" --url "$RR"
assert_eq 1 "$RC" "round robin: refused"
assert_contains "$ERR" "the deploy lock was taken in server session pid" "round robin: says the statements reach other server sessions"
assert_contains "$ERR" "DK022" "round robin: SQLSTATE DK022"
assert_eq 0 "$(q "SELECT count(*) FROM pg_class WHERE relname = 'pooled3'")" "round robin: nothing applied"
assert_eq "" "$(q "SELECT dbkit_deploy_lock_holder()")" "round robin: the lock does not stay with a pooled session"
run migrate --dir "$F"
assert_eq 0 "$RC" "round robin: a direct deploy afterwards applies: $ERR"
err=$("${PSQL[@]}" -c "SELECT count(*) FROM dbkit_apply('{}', '{\"lock_pid\": 1}')" 2>&1 || true)
assert_contains "$err" "this call reached server session pid" "a call whose lock_pid is another server session: refused at once"
finish
