#!/usr/bin/env bash
# dbkit migrate|status|drift|check --targets FILE: one folder, many databases.
# Every target is reported, a failing or unreachable one never stops the others
# (unless --fail-fast), a failing canary stops the rest before they run, the exit
# code is the worst target's, passwords never appear, --parallel bounds how many
# targets run at once, --json is one document.
source "$(dirname "$0")/lib.sh"
F=$WORK/m
mkdir -p "$F"
printf 'CREATE TABLE a (id int PRIMARY KEY);\n' >"$F/0000_a.sql"
printf 'CREATE TABLE b (id int PRIMARY KEY);\n' >"$F/0001_b.sql"
printf 'CREATE TABLE c (id int PRIMARY KEY, a_id int REFERENCES a (id));\n' >"$F/0002_c.sql"
write_journal "$F"
SECRET=Fl33tS3cretPw
migrations() { "${PSQL[@]}" -d "$1" -c "SELECT count(*) FROM dbkit.migrations"; }
# a database where 0001_b fails: the table is there already
bad_db() {
	fresh_db "$1"
	"${PSQL[@]}" -d "$1" -c "CREATE TABLE b (x text)"
}
# one JSON document on stdout: a python expression over it, d
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$WORK/out"; }
NOSOCKET="host=$WORK/nosocket dbname=fleet_x"

case_begin fleet/all-fine
for k in 1 2 3 4 5; do fresh_db fleet_$k; done
# trust authentication ignores the passwords: they are here to be masked
cat >"$WORK/t1" <<T
# five databases of one cluster (PGHOST/PGPORT/PGUSER fill in the rest)
dbname=fleet_1

postgresql://postgres:$SECRET@/fleet_2?host=$PGHOST&port=$PGPORT
dbname=fleet_3 password=$SECRET
   dbname=fleet_4
dbname=fleet_5 user=postgres
T
run migrate --dir "$F" --targets "$WORK/t1"
assert_eq 0 "$RC" "five good targets: exit 0"
for k in 1 2 3 4 5; do assert_eq 3 "$(migrations fleet_$k)" "fleet_$k has the 3 migrations"; done
assert_eq 5 "$(grep -cE '^ +[0-9]+ .* applied +3 +0 ' <<<"$OUT")" "the table has a row per target, each applied, 3 migrations, 0 pending"
assert_contains "$OUT" "fleet: dbkit migrate on 5 targets" "totals line"
assert_contains "$OUT" "5 applied; 15 migrations applied; exit code 0" "totals: 5 applied, 15 migrations"
assert_contains "$OUT" "dbname=fleet_2 user=postgres password=***" "a URI target is shown with its password masked"
assert_contains "$OUT" "dbname=fleet_3 password=***" "a key=value target is shown with its password masked"
assert_not_contains "$OUT$ERR" "$SECRET" "the password is printed nowhere"
assert_contains "$ERR" "fleet: [5/5]" "without a terminal: a plain progress line per target on stderr"
assert_not_contains "$ERR" $'\r' "without a terminal: no carriage returns"
run migrate --dir "$F" --targets "$WORK/t1"
assert_eq 0 "$RC" "again: exit 0"
assert_contains "$OUT" "5 up to date; 0 migrations applied" "again: every target up to date"

# --rehearse, --dry-run and check --rehearse change nothing on any target, as on one
# (a fleet run called migrate for --rehearse and applied everything); a targets file
# saved with a byte order mark is read (it made the first line an invalid option)
case_begin fleet/rehearse-and-dry-run-change-nothing
for k in 6 7; do fresh_db fleet_$k; done
printf '\xef\xbb\xbfdbname=fleet_6\ndbname=fleet_7\n' >"$WORK/t_nochange"
run migrate --dir "$F" --targets "$WORK/t_nochange" --rehearse
assert_eq 0 "$RC" "--rehearse on two targets: exit 0 ($OUT $ERR)"
assert_contains "$OUT" "rehearsed of 3 pending migrations" "each target rehearsed (nothing to rehearse without down files), pending as before"
for k in 6 7; do assert_eq 0 "$(migrations fleet_$k)" "--rehearse: fleet_$k has nothing applied"; done
run migrate --dir "$F" --targets "$WORK/t_nochange" --dry-run
assert_eq 0 "$RC" "--dry-run on two targets: exit 0"
for k in 6 7; do assert_eq 0 "$(migrations fleet_$k)" "--dry-run: fleet_$k has nothing applied"; done
run check --dir "$F" --targets "$WORK/t_nochange" --rehearse
for k in 6 7; do assert_eq 0 "$(migrations fleet_$k)" "check --rehearse: fleet_$k has nothing applied"; done
assert_not_contains "$OUT$ERR" "invalid connection option" "the byte order mark is not read as part of the first target"

case_begin fleet/failing-and-unreachable
fresh_db fleet_6
fresh_db fleet_7
bad_db fleet_bad
printf '%s\n' dbname=fleet_6 dbname=fleet_bad "$NOSOCKET" dbname=fleet_does_not_exist dbname=fleet_7 >"$WORK/t2"
run migrate --dir "$F" --targets "$WORK/t2" --parallel 2
assert_eq 3 "$RC" "a failed and an unreachable target: exit 3 (connection is worse than failed)"
assert_eq 3 "$(migrations fleet_6)" "fleet_6 migrated all the same"
assert_eq 3 "$(migrations fleet_7)" "fleet_7 (after the failures in the list) migrated all the same"
assert_eq 0 "$(migrations fleet_bad)" "fleet_bad: nothing of the run remains"
assert_match "$OUT" "dbname=fleet_bad +failed +0 +3 " "fleet_bad: failed, 0 applied, 3 pending"
assert_contains "$OUT" "relation \"b\" already exists (SQLSTATE 42P07)" "the failure's message and SQLSTATE"
assert_match "$OUT" "host=$WORK/nosocket dbname=fleet_x +unreachable" "a missing server: unreachable"
assert_match "$OUT" "dbname=fleet_does_not_exist +unreachable" "a missing database: unreachable"
assert_contains "$OUT" "database \"fleet_does_not_exist\" does not exist" "its error"
assert_contains "$OUT" "2 applied, 1 failed, 2 unreachable" "totals count each outcome"
printf '%s\n' dbname=fleet_bad dbname=fleet_1 >"$WORK/t3"
run migrate --dir "$F" --targets "$WORK/t3"
assert_eq 1 "$RC" "a failed target and an up-to-date one: exit 1"
"${PSQL[@]}" -d fleet_7 -c "CREATE TABLE drifted (x int)"
printf '%s\n' dbname=fleet_7 "$NOSOCKET" >"$WORK/t4"
run drift --dir "$F" --targets "$WORK/t4"
assert_eq 3 "$RC" "drift and unreachable: exit 3 (connection is worse than drift)"

case_begin fleet/canary
fresh_db fleet_c1
bad_db fleet_c2
for k in 3 4 5; do fresh_db fleet_c$k; done
printf 'dbname=fleet_c%s\n' 1 2 3 4 5 >"$WORK/tc"
run migrate --dir "$F" --targets "$WORK/tc" --canary 2
assert_eq 1 "$RC" "a failing canary: exit 1"
assert_eq 3 "$(migrations fleet_c1)" "the good canary migrated"
assert_eq 0 "$(migrations fleet_c2)" "the failing canary: nothing remains"
for k in 3 4 5; do assert_eq 0 "$(migrations fleet_c$k)" "fleet_c$k (after the canary) never ran"; done
assert_eq 3 "$(grep -c 'skipped (canary failed)' <<<"$OUT")" "the three others are reported skipped (canary failed)"
assert_contains "$ERR" "the canary failed: 3 other targets will not run" "says so on stderr"
assert_contains "$OUT" "1 applied, 1 failed, 3 skipped" "totals"
printf 'dbname=fleet_c%s\n' 1 3 4 5 >"$WORK/tc2"
run migrate --dir "$F" --targets "$WORK/tc2" --canary 2
assert_eq 0 "$RC" "canaries that pass: the rest runs, exit 0"
for k in 3 4 5; do assert_eq 3 "$(migrations fleet_c$k)" "fleet_c$k migrated after the canaries"; done

case_begin fleet/fail-fast
fresh_db fleet_f1
bad_db fleet_f2
fresh_db fleet_f3
fresh_db fleet_f4
printf 'dbname=fleet_f%s\n' 1 2 3 4 >"$WORK/tf"
run migrate --dir "$F" --targets "$WORK/tf" --parallel 1 --fail-fast
assert_eq 1 "$RC" "--fail-fast: exit 1"
assert_eq 3 "$(migrations fleet_f1)" "the target before the failure migrated"
assert_eq 0 "$(migrations fleet_f3)" "fleet_f3 never started"
assert_eq 0 "$(migrations fleet_f4)" "fleet_f4 never started"
assert_eq 2 "$(grep -c 'skipped (fail-fast)' <<<"$OUT")" "both reported skipped (fail-fast)"
run migrate --dir "$F" --targets "$WORK/tf" --parallel 1
assert_eq 1 "$RC" "without --fail-fast: exit 1"
assert_eq 3 "$(migrations fleet_f4)" "without --fail-fast the targets after the failure run"

case_begin fleet/json
fresh_db fleet_j1
printf '%s\n' dbname=fleet_j1 dbname=fleet_bad "$NOSOCKET" "dbname=fleet_1 password=$SECRET" >"$WORK/tj"
run migrate --dir "$F" --targets "$WORK/tj" --json --canary 1
assert_eq 3 "$RC" "--json: the same exit code"
assert_eq "False 3 migrate 4 1 False" "$(json 'd["ok"], d["exit_code"], d["command"], d["parallel"], d["canary"], d["fail_fast"]')" "the run's fields"
assert_eq "applied backup duration_ms error exit_code index line log note outcome pending skipped target" \
	"$(json '" ".join(sorted(d["targets"][0]))')" "each target's fields"
assert_eq "applied failed unreachable up_to_date" "$(json '" ".join(t["outcome"] for t in d["targets"])')" "outcomes in the targets' order"
assert_eq "3 0 None 0" "$(json '" ".join(str(t["applied"]) for t in d["targets"])')" "applied per target (unknown: null)"
assert_eq "0 3 None 0" "$(json '" ".join(str(t["pending"]) for t in d["targets"])')" "pending per target"
assert_eq "42P07" "$(json 'd["targets"][1]["error"]["sqlstate"]')" "the failure's SQLSTATE"
assert_contains "$(json 'd["targets"][2]["error"]["message"]')" "nosocket" "the unreachable target's message"
assert_eq "dbname=fleet_1 password=***" "$(json 'd["targets"][3]["target"]')" "the password masked"
assert_eq "4 3 3 1 1 1 0" "$(json 'd["totals"]["targets"], d["totals"]["applied"], d["totals"]["pending"], d["totals"]["outcomes"]["applied"], d["totals"]["outcomes"]["failed"], d["totals"]["outcomes"]["unreachable"], d["totals"]["outcomes"]["skipped"]')" "totals"
assert_eq "applied clean drift failed invalid pending skipped unreachable up_to_date valid" "$(json '" ".join(sorted(d["totals"]["outcomes"]))')" "totals list every outcome"
assert_not_contains "$OUT$ERR" "$SECRET" "--json: no password"
run migrate --dir "$F" --targets "$WORK/tj" --json --canary 2
assert_eq "up_to_date failed skipped skipped" "$(json '" ".join(t["outcome"] for t in d["targets"])')" "--json: skipped rows"
assert_eq "None canary failed" "$(json 'd["targets"][2]["exit_code"], d["targets"][2]["skipped"]')" "a skipped row: no exit code, the reason"

case_begin fleet/stdin
fresh_db fleet_s1
fresh_db fleet_s2
run_stdin() {
	set +e
	"$DBKIT" "$@" <"$WORK/stdin" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
printf '# from a pipe\n\ndbname=fleet_s1\n  # indented comment\ndbname=fleet_s2\n' >"$WORK/stdin"
run_stdin migrate --dir "$F" --targets -
assert_eq 0 "$RC" "--targets -: exit 0"
assert_eq "3 3" "$(migrations fleet_s1) $(migrations fleet_s2)" "both databases from stdin migrated"
assert_contains "$OUT" "on 2 targets" "comments and blank lines are not targets"

case_begin fleet/passwords
printf 'dbname=fleet_1\npostgresql://u:%s@[::1/db\n' "$SECRET" >"$WORK/tp"
run migrate --dir "$F" --targets "$WORK/tp"
assert_eq 2 "$RC" "a line libpq does not accept: usage error, exit 2"
assert_contains "$ERR" "line 2: not a connection string libpq accepts" "names the line"
assert_not_contains "$ERR$OUT" "$SECRET" "the bad line's password is not printed"
assert_eq 3 "$(migrations fleet_1)" "no target ran"
printf 'dbname=fleet_1 password=%s\npostgresql://postgres:%s@/fleet_bad?host=%s\n' "$SECRET" "$SECRET" "$PGHOST" >"$WORK/tp2"
run migrate --dir "$F" --targets "$WORK/tp2" --log-dir "$WORK/logs"
assert_eq 1 "$RC" "with a log dir: exit 1"
assert_eq 2 "$(ls "$WORK/logs" | wc -l)" "one log file per target"
assert_contains "$(cat "$WORK/logs/002-fleet_bad.log")" "already exists" "the failed target's log has its error"
assert_contains "$OUT" "log:  $WORK/logs/002-fleet_bad.log" "the report names the log"
assert_not_contains "$(cat "$WORK"/logs/*)$OUT$ERR" "$SECRET" "no password in the logs or the report"

case_begin fleet/status-drift-check
fresh_db fleet_p
printf '%s\n' dbname=fleet_1 dbname=fleet_2 dbname=fleet_p >"$WORK/ts"
run status --dir "$F" --targets "$WORK/ts"
assert_eq 0 "$RC" "status: exit 0"
assert_match "$OUT" "dbname=fleet_1 +up to date +3 +0" "status: an applied database is up to date"
assert_match "$OUT" "dbname=fleet_p +pending +0 +3" "status: a fresh database has 3 pending"
assert_contains "$OUT" "2 up to date, 1 pending; 3 migrations pending" "status totals"
"${PSQL[@]}" -d fleet_2 -c "CREATE TABLE made_by_hand (x int)"
printf '%s\n' dbname=fleet_1 dbname=fleet_2 >"$WORK/td"
run drift --dir "$F" --targets "$WORK/td"
assert_eq 4 "$RC" "drift on one target: exit 4"
assert_match "$OUT" "dbname=fleet_2 +drift .* [0-9]+ difference" "drift: the database changed by hand"
assert_match "$OUT" "dbname=fleet_1 +clean" "drift: the other one clean"
run drift --dir "$F" --targets "$WORK/ts"
assert_eq 1 "$RC" "drift where nothing was ever applied (no reference): exit 1, as dbkit drift alone"
assert_match "$OUT" "#3 dbname=fleet_p: .*DK008" "its reason, from the drift document"
run check --dir "$F" --targets "$WORK/ts"
assert_eq 0 "$RC" "check: exit 0"
assert_contains "$OUT" "3 valid" "check: every target valid"
cp -r "$F" "$WORK/m2"
printf 'CREATE TABLE a (id bigint PRIMARY KEY);\n' >"$WORK/m2/0000_a.sql"
run check --dir "$WORK/m2" --targets "$WORK/ts" --json
assert_eq 5 "$RC" "check with an applied file edited: exit 5"
assert_eq "invalid invalid valid" "$(json '" ".join(t["outcome"] for t in d["targets"])')" "check: invalid where it was applied"

case_begin fleet/parallel-bound
for k in 1 2 3 4 5; do fresh_db fleet_w$k; done
for k in 1 2 3 4 5; do
	PGAPPNAME=fleet_holder "${PSQL[@]}" -d fleet_w$k -c "CALL dbkit_deploy_lock()" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
	E2E_CLEANUP+=("kill $! 2>/dev/null")
done
wait_until 60 "SELECT count(*) = 5 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE a.application_name = 'fleet_holder' AND l.locktype = 'advisory' AND l.granted" >/dev/null ||
	fail "the five holders never got dbkit's deploy lock"
printf 'dbname=fleet_w%s\n' 1 2 3 4 5 >"$WORK/tw"
"$DBKIT" migrate --dir "$F" --targets "$WORK/tw" --parallel 3 >"$WORK/wout" 2>"$WORK/werr" &
fleet_job=$!
waiting_sql="SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
if wait_until 60 "SELECT count(*) = 3 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted" >/dev/null; then
	pass "--parallel 3: three targets wait for their deploy lock at once"
else
	fail "--parallel 3: never three waiting: $(q "$waiting_sql")"
fi
most=0
for _ in $(seq 1 20); do
	n=$(q "$waiting_sql")
	((n > most)) && most=$n
	sleep 0.05
done
assert_eq 3 "$most" "--parallel 3: never more than three at once"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'fleet_holder'" >/dev/null
if wait "$fleet_job"; then pass "the fleet run ends with exit 0 once the locks are free"; else fail "exit $?: $(cat "$WORK/werr")"; fi
for k in 1 2 3 4 5; do assert_eq 3 "$(migrations fleet_w$k)" "fleet_w$k migrated"; done

case_begin fleet/live-progress
# stderr on a terminal (script(1) gives the run a pseudo-terminal): one live line
printf 'dbname=fleet_%s\n' 1 2 3 >"$WORK/tl"
env -u CI script -qec "'$DBKIT' status --dir '$F' --targets '$WORK/tl' >'$WORK/lout'" /dev/null >"$WORK/tty" 2>&1 || true
tty_text=$(cat "$WORK/tty")
assert_contains "$tty_text" $'\r'"fleet: 3/3 done, 0 failed, 0 running" "on a terminal: the live line counts done, failed, running"
assert_not_contains "$tty_text" "fleet: [1/3]" "on a terminal: no line per target"
CI=true script -qec "'$DBKIT' status --dir '$F' --targets '$WORK/tl' >'$WORK/lout'" /dev/null >"$WORK/tty" 2>&1 || true
tty_text=$(cat "$WORK/tty")
assert_not_contains "$tty_text" $'\r'"fleet:" "CI=true: no live line"
assert_contains "$tty_text" "fleet: [3/3]" "CI=true: plain lines"

case_begin fleet/backup
fresh_db fleet_b1
fresh_db fleet_b2
printf 'dbname=fleet_b%s\n' 1 2 >"$WORK/tb"
run migrate --dir "$F" --targets "$WORK/tb" --backup "$WORK/dumps"
assert_eq 0 "$RC" "--backup with --targets: exit 0"
assert_eq 1 "$(ls "$WORK/dumps/001-fleet_b1" | grep -c '\.dump$')" "a dump in the first target's own directory"
assert_eq 1 "$(ls "$WORK/dumps/002-fleet_b2" | grep -c '\.dump$')" "a dump in the second target's own directory"

case_begin fleet/silent-server
# A target that accepts the TCP connection and never answers (a black-holed proxy, a half-dead
# pooler): libpq alone waits forever, so the run never ended and printed nothing. A connection
# string without connect_timeout gets the fleet's (--connect-timeout, default 10 s): the target is
# unreachable and the run ends with its table, exit code and JSON.
python3 - "$WORK/silent.port" <<'PY' >/dev/null 2>&1 &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(50)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
keep = []
while True:
    keep.append(s.accept()[0])  # accept, never answer
PY
E2E_CLEANUP+=("kill $! 2>/dev/null")
for _ in $(seq 1 200); do [[ -s $WORK/silent.port ]] && break; sleep 0.05; done
SILENT="host=127.0.0.1 port=$(cat "$WORK/silent.port") dbname=app user=deployer"
fresh_db fleet_h1
fresh_db fleet_h2
printf '%s\n' dbname=fleet_h1 "$SILENT" dbname=fleet_h2 >"$WORK/th"
# run_bounded ARGS...: run, but killed after 90 s (exit 124) instead of hanging the test
run_bounded() {
	set +e
	env -u PGCONNECT_TIMEOUT timeout 90 "$DBKIT" "$@" >"$WORK/out" 2>"$WORK/err"
	_run_result $?
}
started=$SECONDS
run_bounded migrate --dir "$F" --targets "$WORK/th" --parallel 4 --connect-timeout 2 --json
assert_eq 3 "$RC" "a silent target: the run ends, exit 3 (unreachable), not killed by the 90 s bound (124): $ERR"
assert_eq "applied unreachable applied" "$(json '" ".join(t["outcome"] for t in d["targets"])' 2>&1)" "--json: the silent target is unreachable, the others applied"
assert_contains "$(json 'd["targets"][1]["error"]["message"]' 2>&1)" "timeout expired" "its message: libpq's timeout"
assert_contains "$(json 'd["targets"][1]["error"]["hint"]' 2>&1)" "connect_timeout" "its hint names connect_timeout"
assert_eq "3 3" "$(migrations fleet_h1) $(migrations fleet_h2)" "the other targets migrated"
((SECONDS - started < 60)) && pass "--connect-timeout 2: done in $((SECONDS - started)) s" || fail "--connect-timeout 2 took $((SECONDS - started)) s"
# text, the timeout from the target's own connection string (it wins over --connect-timeout)
printf '%s\n' dbname=fleet_h1 "$SILENT connect_timeout=2" >"$WORK/th2"
started=$SECONDS
run_bounded status --dir "$F" --targets "$WORK/th2" --connect-timeout 0
assert_eq 3 "$RC" "the target's own connect_timeout=2 wins over --connect-timeout 0 (forever): exit 3"
assert_match "$OUT" "port=[0-9]+ dbname=app user=deployer connect_timeout=2 +unreachable" "the table shows it unreachable"
assert_contains "$OUT" "1 up to date, 1 unreachable" "and the totals"
((SECONDS - started < 60)) && pass "connect_timeout=2 in the target: done in $((SECONDS - started)) s" || fail "took $((SECONDS - started)) s"
# one database, no option: the default (10 s) unless PGCONNECT_TIMEOUT says otherwise
started=$SECONDS
run_bounded status --dir "$F" --url "$SILENT"
assert_eq 3 "$RC" "one silent database, no timeout given: exit 3 after dbkit's default"
assert_contains "$ERR" "timeout expired" "saying the timeout expired"
assert_contains "$ERR" "connect_timeout" "and how to change it"
((SECONDS - started >= 8 && SECONDS - started < 19)) && pass "the default is about 10 s, waited once ($((SECONDS - started)) s)" ||
	fail "the default took $((SECONDS - started)) s, expected about 10"
started=$SECONDS
set +e
PGCONNECT_TIMEOUT=2 timeout 90 "$DBKIT" status --dir "$F" --url "$SILENT" >"$WORK/out" 2>"$WORK/err"
_run_result $?
assert_eq 3 "$RC" "PGCONNECT_TIMEOUT=2: exit 3"
((SECONDS - started < 8)) && pass "PGCONNECT_TIMEOUT is kept ($((SECONDS - started)) s)" || fail "PGCONNECT_TIMEOUT=2 took $((SECONDS - started)) s"
run migrate --dir "$F" --connect-timeout 2
assert_eq 2 "$RC" "--connect-timeout without --targets: exit 2"

case_begin fleet/usage
run migrate --dir "$F" --parallel 2
assert_eq 2 "$RC" "--parallel without --targets: exit 2"
run migrate --dir "$F" --targets "$WORK/t1" --url "postgresql:///fleet_1"
assert_eq 2 "$RC" "--targets with --url: exit 2"
run migrate --dir "$F" --targets "$WORK/no-such-file"
assert_eq 2 "$RC" "a missing targets file: exit 2"
assert_contains "$ERR" "cannot read the targets file" "says so"
printf '# nothing\n\n' >"$WORK/empty"
run migrate --dir "$F" --targets "$WORK/empty" --json
assert_eq 2 "$RC" "no target: exit 2"
assert_eq "usage" "$(json 'd["error"]["kind"]')" "--json: a usage error document"
run check --offline --dir "$F" --targets "$WORK/t1"
assert_eq 2 "$RC" "check --offline with --targets: exit 2"
fresh_db fleet_u
run migrate --dir "$WORK/no-folder" --targets <(echo dbname=fleet_u)
assert_eq 2 "$RC" "a missing folder: exit 2"
assert_not_contains "$ERR" "fleet:" "a missing folder: no target was started"
finish
