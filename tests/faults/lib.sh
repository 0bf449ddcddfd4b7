# shellcheck shell=bash
# Shared by the fault scripts (source it): a private cluster, a generated migrations
# folder with a gate (a lock another session holds) or a sleep in the middle, the
# fault injectors, and the all-or-nothing assertion.
#
# Each script: source lib.sh; fault_start; ...cases...; fault_finish.
# Output: "  ok: ..." / "  FAIL: [case] ..." per assertion, and one last "SUMMARY: ..."
# line that run_all.sh prints (with "N passed, M failed" and the failed cases). Name
# each case with case_begin NAME (crash_case does it): a `set -e` abort names the
# case it stopped in.
set -eEuo pipefail
: "${DBKIT:?set DBKIT to the client binary}" "${DBKIT_SRC:?set DBKIT_SRC to the repository root}"
source "$DBKIT_SRC/scripts/pgcluster.sh"
unset DATABASE_URL PGOPTIONS PGAPPNAME

PSQL=(psql -X -A -t -q -v ON_ERROR_STOP=1)
FAILS=0
PASSES=0
BG_PIDS=()
WORK=
CASE="$(basename "$0" .sh) (before its first case_begin)"
FAILED_CASES=()
_FAULT_FINISHED=
_FAULT_LAST_ERR=
case_begin() {
	CASE=$1
	_FAULT_LAST_ERR=
	echo "-- $CASE"
}
# Records the last failing command; fault_cleanup prints it if set -e stopped the script.
trap '[[ $- != *e* ]] || _FAULT_LAST_ERR="$BASH_COMMAND (line $LINENO, exit $?)"' ERR

fault_cleanup() {
	local p rc=$?
	if [[ -z $_FAULT_FINISHED ]]; then
		echo "  FAIL: [$CASE] the script stopped (exit $rc)${_FAULT_LAST_ERR:+ at: $_FAULT_LAST_ERR}"
		FAILS=$((FAILS + 1))
		_fault_note_failed_case
		echo "SUMMARY: aborted in case [$CASE]; $(_fault_counts)"
	fi
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	exec 7>&-
	pg_cluster_stop
	[[ -n $WORK ]] && rm -rf "$WORK"
}

# fsync stays on (the default): crash tests must see what a real crash leaves.
fault_start() {
	WORK=$(mktemp -d /tmp/dbkit-faults.XXXXXX)
	# status --dir keeps a hash cache: this run's own, never the user's (as the e2e tests do)
	export XDG_CACHE_HOME=$WORK/.cache
	trap fault_cleanup EXIT
	trap 'exit 143' TERM INT
	pg_cluster_start
	[[ $("${PSQL[@]}" -d postgres -c 'SHOW fsync') == on ]] || { echo "fsync is off" >&2; exit 1; }
}

_fault_note_failed_case() {
	local c
	for c in "${FAILED_CASES[@]}"; do [[ $c == "$CASE" ]] && return 0; done
	FAILED_CASES+=("$CASE")
}
_fault_counts() {
	local line="$PASSES passed, $FAILS failed"
	((${#FAILED_CASES[@]} == 0)) || line+=": $(printf '[%s] ' "${FAILED_CASES[@]}")"
	echo "${line% }"
}
fail() {
	echo "  FAIL: [$CASE] $*"
	FAILS=$((FAILS + 1))
	_fault_note_failed_case
}
pass() {
	echo "  ok: $*"
	PASSES=$((PASSES + 1))
}
# info: context printed with the log (a measurement, a client's message); never a verdict.
info() { echo "  info: $*"; }
# Kept for scripts written before info(): the same, context only. A check asserts.
NOTES=()
note() {
	echo "  note: $*"
	NOTES+=("$*")
}
# Two values, shown in full when short, as `diff -u expected actual` when long.
_show_diff() { # expected actual
	if (($(wc -l <<<"$1") > 3 || $(wc -l <<<"$2") > 3 || ${#1} > 300 || ${#2} > 300)); then
		echo "differs (diff -u expected actual):"
		diff -u --label expected --label actual <(printf '%s\n' "$1") <(printf '%s\n' "$2") | head -200 || true
	else
		echo "expected [$1], got [$2]"
	fi
}
assert_eq() { # expected actual message
	if [[ "$1" == "$2" ]]; then pass "$3"; else fail "$3: $(_show_diff "$1" "$2")"; fi
}
assert_contains() { # haystack needle message
	if [[ "$1" == *"$2"* ]]; then pass "$3"; else fail "$3: [$2] not found in: $1"; fi
}
q() { "${PSQL[@]}" -c "$1"; }
qdb() { "${PSQL[@]}" -d "$1" -c "$2"; }

# A fresh database with the extension and the gate table (not part of any folder).
# The gate has no index and no default on purpose: dbkit_apply's schema snapshot
# (taken before the first migration when one is already stored, and after the last)
# calls pg_get_indexdef/pg_get_expr, which take ACCESS SHARE on the table, so a lock on
# a table with an index would stop the run there rather than in the gate migration.
fresh_db() {
	local name=$1
	"${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$name\""
	qdb "$name" "CREATE EXTENSION dbkit; CREATE TABLE gate (id int); INSERT INTO gate VALUES (1); $STATE_FN"
	export PGDATABASE=$name
}

# make_folder DIR N [gate@K] [sleep@K:SECONDS] [work@ROWS]
# N migrations. 0000 creates mig_ledger; every migration k inserts k into it (so a
# statement that ran twice is caught by the primary key), and k >= 1 creates table
# mig_t<k> with an index. gate@K: migration K also ALTERs table gate (adds column
# added_by_<K>), so it waits while another session holds a lock on gate.
# sleep@K:S: migration K also runs pg_sleep(S). work@ROWS: each migration also fills
# its table with ROWS rows (to make a run take time). Same N and options, same bytes.
make_folder() {
	local dir=$1 n=$2 gate=-1 sleepk=-1 sleeps=0 rows=0 a k tag when entries=
	shift 2
	for a in "$@"; do
		case $a in
		gate@*) gate=${a#gate@} ;;
		sleep@*) sleepk=${a#sleep@} sleeps=${sleepk#*:} sleepk=${sleepk%%:*} ;;
		work@*) rows=${a#work@} ;;
		*) echo "make_folder: bad option $a" >&2; return 2 ;;
		esac
	done
	mkdir -p "$dir/meta"
	for ((k = 0; k < n; k++)); do
		printf -v tag '%04d_step_%d' "$k" "$k"
		when=$((1700000000000 + k * 1000))
		{
			if ((k == 0)); then
				echo 'CREATE TABLE "mig_ledger" ("k" integer PRIMARY KEY, "at" timestamptz DEFAULT clock_timestamp());'
			else
				echo "CREATE TABLE \"mig_t$k\" (\"id\" serial PRIMARY KEY, \"v\" text NOT NULL);"
				echo '--> statement-breakpoint'
				echo "CREATE INDEX \"mig_t${k}_v_idx\" ON \"mig_t$k\" (\"v\");"
				if ((rows > 0)); then
					echo '--> statement-breakpoint'
					echo "INSERT INTO \"mig_t$k\" (\"v\") SELECT md5(g::text) FROM generate_series(1, $rows) g;"
				fi
			fi
			if ((k == sleepk)); then
				echo '--> statement-breakpoint'
				echo "SELECT pg_sleep($sleeps);"
			fi
			if ((k == gate)); then
				echo '--> statement-breakpoint'
				echo "ALTER TABLE \"gate\" ADD COLUMN \"added_by_$k\" integer;"
			fi
			echo '--> statement-breakpoint'
			echo "INSERT INTO \"mig_ledger\" (\"k\") VALUES ($k);"
		} >"$dir/$tag.sql"
		entries+="${entries:+,}{\"idx\":$k,\"version\":\"7\",\"when\":$when,\"tag\":\"$tag\",\"breakpoints\":true}"
	done
	echo "{\"version\":\"7\",\"dialect\":\"postgresql\",\"entries\":[$entries]}" >"$dir/meta/_journal.json"
}

# Runs the client in the foreground; sets RC, OUT, ERR.
run() {
	set +e
	"$DBKIT" "$@" >"$WORK/out" 2>"$WORK/err" 7>&-
	RC=$?
	set -e
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
# Starts `dbkit migrate --dir DIR` in the background; sets CLIENT_PID (a subshell) and
# DBKIT_PID (the client process itself); output in $WORK/client.{out,err,rc}.
# CLIENT_PGOPTIONS: server settings for this client only (e.g. -c lock_timeout=1s);
# CLIENT_ARGS: more flags for dbkit migrate (e.g. --lock-retries 0).
# Background children never keep the holder's fifo (fd 7) open.
start_migrate() {
	local dir=$1
	rm -f "$WORK/client.rc" "$WORK/client.pid"
	(
		# shellcheck disable=SC2086 # CLIENT_ARGS: extra flags, split on spaces
		PGOPTIONS=${CLIENT_PGOPTIONS:-} "$DBKIT" migrate --dir "$dir" ${CLIENT_ARGS:-} >"$WORK/client.out" 2>"$WORK/client.err" &
		echo $! >"$WORK/client.pid"
		set +e
		wait $! 2>/dev/null
		echo $? >"$WORK/client.rc"
	) 7>&- &
	CLIENT_PID=$!
	BG_PIDS+=("$CLIENT_PID")
	while [[ ! -s $WORK/client.pid ]]; do sleep 0.02; done
	DBKIT_PID=$(cat "$WORK/client.pid")
	BG_PIDS+=("$DBKIT_PID")
}
# Waits for the background client; sets CRC, COUT, CERR.
wait_migrate() {
	wait "$CLIENT_PID" 2>/dev/null || true
	CRC=$(cat "$WORK/client.rc" 2>/dev/null || echo killed)
	COUT=$(cat "$WORK/client.out" 2>/dev/null || true)
	CERR=$(cat "$WORK/client.err" 2>/dev/null || true)
}

# wait_for SECONDS SQL: polls until SQL prints a non-empty value; prints it.
wait_for() {
	local secs=$1 sql=$2 v deadline=$((SECONDS + $1))
	while ((SECONDS <= deadline)); do
		v=$("${PSQL[@]}" -c "$sql" 2>/dev/null || true)
		if [[ -n $v ]]; then
			echo "$v"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
# The pid of dbkit's backend once it is waiting on a lock (in $PGDATABASE).
# Optional second argument: the wait_event ('relation' = the gate, 'advisory' = dbkit's lock).
dbkit_waiting_pid() {
	local ev=${1:-}
	wait_for 30 "SELECT pid FROM pg_stat_activity WHERE application_name = 'dbkit' AND datname = current_database()
		AND state = 'active' AND wait_event_type = 'Lock' ${ev:+AND wait_event = '$ev'} ORDER BY pid LIMIT 1"
}
backend_alive() { [[ -n $(q "SELECT 1 FROM pg_stat_activity WHERE pid = $1") ]]; }
wait_backend_gone() { # pid seconds
	local deadline=$((SECONDS + $2))
	while ((SECONDS <= deadline)); do
		backend_alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

# The holder: a psql session fed through a fifo (fd 7), so the test decides when it
# commits, disconnects or is killed. hold_gate takes ACCESS EXCLUSIVE on gate;
# hold_advisory takes dbkit's own advisory lock (as a concurrent deploy would).
start_holder() {
	local sql=$1
	rm -f "$WORK/holder.in"
	mkfifo "$WORK/holder.in"
	PGAPPNAME=fault_holder "${PSQL[@]}" <"$WORK/holder.in" >"$WORK/holder.out" 2>&1 &
	HOLDER_PID=$!
	BG_PIDS+=("$HOLDER_PID")
	exec 7>"$WORK/holder.in"
	echo "$sql" >&7
	HOLDER_BACKEND=$(wait_for 30 "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE a.application_name = 'fault_holder' AND l.granted AND l.mode = 'AccessExclusiveLock'
		OR a.application_name = 'fault_holder' AND l.granted AND l.locktype = 'advisory' LIMIT 1") || {
		fail "the holder never got its lock: $(cat "$WORK/holder.out")"
		return 1
	}
}
hold_gate() { start_holder "BEGIN; LOCK TABLE gate IN ACCESS EXCLUSIVE MODE;"; }
# dbkit's deploy lock, as another deploy holds it (issue 16: an advisory tag of dbkit's own
# that only CALL dbkit_deploy_lock() takes, for a role that may write dbkit's history).
hold_advisory() { start_holder "CALL dbkit_deploy_lock();"; }
# In a subshell: if psql is gone (its server crashed), SIGPIPE ends only the subshell.
holder_send() { (echo "$1" >&7) 2>/dev/null || true; }
holder_close() { # EOF: psql exits, its session ends
	exec 7>&-
	wait "$HOLDER_PID" 2>/dev/null || true
}
release_holder() { # commit and disconnect
	holder_send "COMMIT;"
	holder_close
}

wait_server_ready() { # after a crash: until a query succeeds
	local deadline=$((SECONDS + 60))
	while ((SECONDS <= deadline)); do
		if pg_isready -q -h "$PGHOST" -p "$PGPORT" && "${PSQL[@]}" -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}
# Starts the stopped server again exactly as pgcluster.sh does.
pg_server_start() {
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" -w -t 60 \
		-o "-k $PG_CLUSTER_DIR -c listen_addresses= -p 5432 ${PG_CLUSTER_OPTS:-}" start >/dev/null
}
pg_server_stop() { # mode
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m "$1" -w -t 60 stop >/dev/null
}
server_log_has() { grep -q -- "$1" "$PG_CLUSTER_DIR/server.log"; }

# The database as the run left it: prints "before", "after", or "MIXED <details>".
# Before = exactly PRE migrations (the history before the run), after = exactly N.
# Schema and history must agree: history rows, drizzle's rows, tables of the folder,
# ledger rows (each statement ran once), the gate column, dbkit.events, and one stored
# schema snapshot per apply run (the newest at the newest migration).
# EV0 = the number of apply events before the run.
db_state() { # pre n gate_k ev0
	local pre=$1 n=$2 gate=$3 ev0=$4 got
	got=$(q "SELECT faultkit.state($gate, $ev0)")
	if [[ $got == "history=$pre drizzle=$pre tables=$pre ledger=$pre/$pre gate_column=0 apply_events=+0 snapshots=ok" ]]; then
		echo before
	elif [[ $got == "history=$n drizzle=$n tables=$n ledger=$n/$n gate_column=$((gate >= 0 ? 1 : 0)) apply_events=+1 snapshots=ok" ]]; then
		echo after
	else
		echo "MIXED $got (before would be $pre everywhere, after $n)"
	fi
}
# One query (each psql costs ~0.1 s on a loaded machine): created by fresh_db in a
# schema of its own, before any run, so dbkit's snapshots include it from the start.
STATE_FN=$(
	cat <<'SQL'
CREATE SCHEMA faultkit;
CREATE FUNCTION faultkit.state(gate int, ev0 bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h bigint; d bigint := 0; t bigint; l bigint := 0; ld bigint := 0; g bigint := 0; ev bigint; snap text;
BEGIN
	SELECT count(*) INTO h FROM dbkit.migrations;
	IF to_regclass('drizzle.__drizzle_migrations') IS NOT NULL THEN
		EXECUTE 'SELECT count(*) FROM drizzle.__drizzle_migrations' INTO d;
	END IF;
	SELECT count(*) INTO t FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'mig\_%';
	IF to_regclass('public.mig_ledger') IS NOT NULL THEN
		EXECUTE 'SELECT count(*), count(DISTINCT k) FROM public.mig_ledger' INTO l, ld;
	END IF;
	IF gate >= 0 THEN
		SELECT count(*) INTO g FROM pg_attribute
		 WHERE attrelid = 'public.gate'::regclass AND attname = 'added_by_' || gate AND NOT attisdropped;
	END IF;
	SELECT count(*) - ev0 INTO ev FROM dbkit.events WHERE action = 'apply';
	-- one stored schema snapshot per apply run, the newest at the newest migration;
	-- or, when another session held a table locked at the end of the run, the run
	-- says it skipped its snapshot (dbkit drift then asks for accept-drift); or the
	-- run left its objects to the re-read after its commit (docs/design.md): then a
	-- snapshot stored since, by the worker or a later session, or its rows still
	-- waiting (drift reads them as dbkit's own meanwhile), and one such snapshot may
	-- cover several runs
	SELECT CASE WHEN NOT EXISTS (
	                 SELECT 1 FROM dbkit.events e
	                  WHERE e.action = 'apply' AND NOT coalesce((e.detail ->> 'snapshot_skipped')::bool, false)
	                    AND CASE WHEN e.detail ->> 'reference' = 'deferred'
	                             THEN NOT (EXISTS (SELECT 1 FROM dbkit.snapshots s WHERE s.run_id >= e.id)
	                                       OR EXISTS (SELECT 1 FROM dbkit.dirty_objects d WHERE d.deferred))
	                             ELSE (SELECT count(*) FROM dbkit.snapshots s WHERE s.run_id = e.id) <> 1 END)
	             AND ((SELECT tag FROM dbkit.snapshots ORDER BY id DESC LIMIT 1)
	                 IS NOT DISTINCT FROM (SELECT tag FROM dbkit.migrations ORDER BY id DESC LIMIT 1)
	                  OR (SELECT (detail ->> 'snapshot_skipped')::bool FROM dbkit.events WHERE action = 'apply'
	                      ORDER BY id DESC LIMIT 1)
	                  OR EXISTS (SELECT 1 FROM dbkit.dirty_objects d WHERE d.deferred))
	            THEN 'ok' ELSE 'BAD' END INTO snap;
	RETURN format('history=%s drizzle=%s tables=%s ledger=%s/%s gate_column=%s apply_events=+%s snapshots=%s',
	              h, d, t, l, ld, g, ev, snap);
END $$;
SQL
)
apply_events() { q "SELECT count(*) FROM dbkit.events WHERE action = 'apply'"; }

# assert_all_or_nothing LABEL PRE N GATE EV0: sets STATE to before/after.
assert_all_or_nothing() {
	local label=$1
	STATE=$(db_state "$2" "$3" "$4" "$5")
	case $STATE in
	before | after) pass "$label: the database is fully $STATE the run (schema and history agree)" ;;
	*) fail "$label: the run was left half done: $STATE" ;;
	esac
}
# assert_next_migrate_completes LABEL DIR N: dbkit migrate exits 0, each migration once.
assert_next_migrate_completes() {
	local label=$1 dir=$2 n=$3
	run migrate --dir "$dir"
	if [[ $RC == 0 ]]; then pass "$label: the next dbkit migrate exits 0 ($(tail -1 <<<"$OUT"))"; else
		fail "$label: the next dbkit migrate exited $RC: $OUT $ERR"
	fi
	assert_eq "history=$n drizzle=$n tables=$n ledger=$n/$n" "$(q "SELECT faultkit.state(-1, 0)" | sed 's/ gate_column.*//')" \
		"$label: every migration applied exactly once (history, drizzle, tables, ledger/distinct)"
	run status --dir "$dir"
	if [[ $RC == 0 && $OUT == *"$n applied"* && $OUT != *pending* ]]; then pass "$label: dbkit status: $n applied, nothing pending"; else
		fail "$label: dbkit status exited $RC: $OUT $ERR"
	fi
}

# Waits up to SECONDS for the background client to exit; then wait_migrate.
wait_client_exit() {
	local deadline=$((SECONDS + $1))
	while [[ ! -e $WORK/client.rc ]] && kill -0 "$DBKIT_PID" 2>/dev/null && ((SECONDS <= deadline)); do sleep 0.1; done
	if [[ ! -e $WORK/client.rc ]] && kill -0 "$DBKIT_PID" 2>/dev/null; then
		fail "the client is still running $1 s after the fault"
		kill -9 "$DBKIT_PID" 2>/dev/null || true
	fi
	wait_migrate
}

# crash_case LABEL DB WAIT INJECT [EXPECT]: the common shape of faults (a)-(d).
# A fresh database already has the first 2 migrations of a 12-migration folder; in
# the folder, migration 6 waits (WAIT = gate: ALTER TABLE on the gate a holder session
# locks; sleep: pg_sleep($CRASH_SLEEP, default 3)). `dbkit migrate` starts, and once its backend visibly
# waits there (so migrations 2..5 have run in its transaction), the function INJECT
# runs with BACKEND (the backend's pid) and DBKIT_PID (the client's pid) set.
# Afterwards the holder commits, the backend must go away, and the database must be
# fully before (2 migrations) or fully after (12) the run; the next migrate completes.
# EXPECT (before|after|any, default any) is the state this fault must leave.
# Sets STATE, CRC, CERR.
crash_case() {
	local label=$1 db=$2 wait=$3 inject=$4 expect=${5:-any} ev0 t0
	case_begin "$label"
	fresh_db "$db"
	make_folder "$WORK/$db-pre" 2
	if [[ $wait == gate ]]; then make_folder "$WORK/$db" 12 gate@6; else make_folder "$WORK/$db" 12 sleep@6:"${CRASH_SLEEP:-3}"; fi
	run migrate --dir "$WORK/$db-pre"
	[[ $RC == 0 ]] || { fail "$label: setup migrate exited $RC: $ERR"; return 0; }
	ev0=$(apply_events)
	HOLDER_PID=
	[[ $wait == gate ]] && hold_gate
	start_migrate "$WORK/$db"
	if [[ $wait == gate ]]; then
		BACKEND=$(dbkit_waiting_pid relation) || BACKEND=
	else
		BACKEND=$(wait_for 30 "SELECT pid FROM pg_stat_activity WHERE application_name = 'dbkit'
			AND datname = current_database() AND wait_event = 'PgSleep'") || BACKEND=
	fi
	if [[ -z $BACKEND ]]; then
		fail "$label: dbkit's backend never reached migration 6: $(cat "$WORK/client.err")"
		return 0
	fi
	if [[ $wait == gate ]]; then
		# Waiting for ACCESS EXCLUSIVE on gate = the ALTER of migration 6, holding the
		# locks of the tables migrations 2..5 created in its (uncommitted) transaction.
		local locks
		locks=$(q "SELECT count(*) FILTER (WHERE NOT granted AND relation = 'gate'::regclass AND mode = 'AccessExclusiveLock')
			|| ' ' || count(*) FILTER (WHERE granted AND locktype = 'relation' AND mode = 'AccessExclusiveLock'
			AND relation NOT IN (SELECT oid FROM pg_class))
			FROM pg_locks WHERE pid = $BACKEND")
		if [[ ${locks% *} == 1 && ${locks#* } -ge 8 ]]; then
			pass "$label: its backend waits for ALTER TABLE gate, holding ${locks#* } relations that migrations 2..5 created"
		else
			fail "$label: its backend is not in migration 6 (waiting on gate, holding created relations): $locks"
		fi
	fi
	pass "$label: dbkit migrate is in progress, its backend $BACKEND waits in migration 6 ($wait)"
	t0=$SECONDS
	"$inject"
	if [[ -n $HOLDER_PID ]]; then
		if kill -0 "$HOLDER_PID" 2>/dev/null; then release_holder; else holder_close; fi
	fi
	wait_client_exit 30
	if wait_backend_gone "$BACKEND" 60; then pass "$label: dbkit's backend is gone"; else
		fail "$label: dbkit's backend $BACKEND is still there 60 s after the fault"
	fi
	assert_all_or_nothing "$label" 2 12 "$([[ $wait == gate ]] && echo 6 || echo -1)" "$ev0"
	if [[ $expect != any && ($STATE == before || $STATE == after) ]]; then
		assert_eq "$expect" "$STATE" "$label: the run is $expect"
	fi
	if [[ $CRC == 0 && $STATE != after ]]; then
		fail "$label: the client exited 0 although its run was not committed: $COUT"
	fi
	info "$label: client exit $CRC; stderr: $(head -c 600 <<<"$CERR" | tr '\n' ' ')"
	assert_next_migrate_completes "$label" "$WORK/$db" 12
}

# One line for run_all.sh.
fault_finish() {
	local what=$1
	_FAULT_FINISHED=1
	if ((FAILS > 0)); then
		echo "SUMMARY: $(_fault_counts); $what"
		exit 1
	fi
	echo "SUMMARY: $(_fault_counts); $what"
}
