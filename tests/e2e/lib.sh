# Shared by the e2e tests: the cluster's coordinates and a few assertions.
#
# Each test: source lib.sh; `case_begin NAME` before each group of assertions;
# `finish` at the end, which prints "N passed, M failed" and the failed cases.
# A `set -e` abort prints the case it happened in, the command and its line, and the
# same summary line (the abort counts as a failure of that case).
# Extra cleanup on exit: add a command to E2E_CLEANUP (an array), never `trap ... EXIT`.
set -eEuo pipefail
source "$E2E_STATE"
unset DATABASE_URL
PSQL=(psql -X -A -t -q -v ON_ERROR_STOP=1)
WORK=$(mktemp -d /tmp/dbkit-e2e.XXXXXX)
# status --dir keeps a hash cache (client/hash_cache.hpp): this test's own, never the user's
export XDG_CACHE_HOME=$WORK/.cache
E2E_CLEANUP=()
FAILS=0
PASSES=0
CASE="$(basename "$0" .sh) (before its first case_begin)"
FAILED_CASES=()
_E2E_FINISHED=
_E2E_LAST_ERR=

# case_begin NAME: the name that failures, aborts and the summary report.
case_begin() {
	CASE=$1
	_E2E_LAST_ERR=
	echo "== $CASE"
}
# Records the last failing command (set -e aborts on it unless it was tested); a
# subshell's record dies with it, which is right: it did not stop this script.
trap '[[ $- != *e* ]] || _E2E_LAST_ERR="$BASH_COMMAND (line $LINENO, exit $?)"' ERR
_e2e_exit() {
	local rc=$? c
	if [[ -z $_E2E_FINISHED ]]; then
		echo "ABORT: the test stopped (exit $rc) in case [$CASE]${_E2E_LAST_ERR:+: $_E2E_LAST_ERR}" >&2
		FAILS=$((FAILS + 1))
		_e2e_note_failed_case
		_e2e_summary >&2
		((rc != 0)) || rc=1
	fi
	for c in "${E2E_CLEANUP[@]}"; do eval "$c" || true; done
	chmod -R u+rwX "$WORK" 2>/dev/null || true
	rm -rf "$WORK"
	exit "$rc"
}
trap _e2e_exit EXIT

# Lanes: a test whose cases are independent runs them in E2E_LANES processes (2 by default,
# one per core of the machines this runs on), each this script again with E2E_LANE set,
# taking the cases for which `in_lane K` holds (K counts the cases). In the first process,
# `run_lanes REGEX` starts them, waits, shows each lane's output, checks each passed, and
# sets LANE_CASES to how many of their case lines match REGEX.
E2E_LANES=${E2E_LANES:-2}
in_lane() { (($1 % E2E_LANES == E2E_LANE)); }
run_lanes() {
	local l rc pids=()
	LANE_CASES=0
	for ((l = 0; l < E2E_LANES; l++)); do
		E2E_LANE=$l E2E_LANES=$E2E_LANES "$0" >"$WORK/lane$l.log" 2>&1 &
		pids+=($!)
	done
	for ((l = 0; l < E2E_LANES; l++)); do
		case_begin "lane $l of $E2E_LANES"
		rc=0
		wait "${pids[l]}" || rc=$?
		cat "$WORK/lane$l.log"
		assert_eq 0 "$rc" "lane $l: every check passed"
		LANE_CASES=$((LANE_CASES + $(grep -cE "$1" "$WORK/lane$l.log" || true)))
	done
}

# A fresh database with the extension; sets PGDATABASE.
fresh_db() {
	local name=$1
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
	"${PSQL[@]}" -d "$name" -c "CREATE EXTENSION dbkit"
	export PGDATABASE=$name
}
q() { "${PSQL[@]}" -c "$1"; }

_e2e_note_failed_case() {
	local c
	for c in "${FAILED_CASES[@]}"; do [[ $c == "$CASE" ]] && return 0; done
	FAILED_CASES+=("$CASE")
}
fail() {
	echo "FAIL: [$CASE] $*" >&2
	FAILS=$((FAILS + 1))
	_e2e_note_failed_case
}
pass() {
	echo "ok: $*"
	PASSES=$((PASSES + 1))
}
# Two values, shown in full when short, as `diff -u expected actual` when long.
_e2e_show_diff() { # expected actual
	if (($(wc -l <<<"$1") > 3 || $(wc -l <<<"$2") > 3 || ${#1} > 300 || ${#2} > 300)); then
		printf '%s\n' "$1" >"$WORK/.expected"
		printf '%s\n' "$2" >"$WORK/.actual"
		echo "differs (diff -u expected actual):"
		diff -u --label expected --label actual "$WORK/.expected" "$WORK/.actual" | head -200 || true
	else
		echo "expected [$1], got [$2]"
	fi
}
assert_eq() { # expected actual message
	if [[ "$1" == "$2" ]]; then pass "$3"; else fail "$3: $(_e2e_show_diff "$1" "$2")"; fi
}
assert_contains() { # haystack needle message
	if [[ "$1" == *"$2"* ]]; then pass "$3"; else fail "$3: [$2] not found in: ${1:0:4000}"; fi
}
assert_not_contains() { # haystack needle message
	if [[ "$1" != *"$2"* ]]; then pass "$3"; else fail "$3: [$2] found in: ${1:0:4000}"; fi
}
assert_match() { # haystack extended-regex message
	if [[ "$1" =~ $2 ]]; then pass "$3"; else fail "$3: /$2/ does not match: ${1:0:4000}"; fi
}
# wait_until SECONDS SQL: polls until SQL prints a non-empty value other than 0/f;
# prints it. The ceiling is generous: a loaded machine is slow, not wrong.
wait_until() {
	local deadline=$((SECONDS + $1)) v
	while ((SECONDS <= deadline)); do
		v=$("${PSQL[@]}" -c "$2" 2>/dev/null || true)
		if [[ -n $v && $v != 0 && $v != f ]]; then
			echo "$v"
			return 0
		fi
		sleep 0.05
	done
	return 1
}
# Waits (30 s at most) until no deploy's objects wait for the background re-read
# (docs/design.md, "The re-read after the commit"), in the database PSQL points at or
# -d DB: checks that compare dbkit's tables before and after a step call it first, so a
# worker finishing the step before never counts as the step's doing.
wait_settled() {
	local db=()
	[[ ${1:-} == -d ]] && db=(-d "$2")
	local deadline=$((SECONDS + 30))
	while ((SECONDS <= deadline)); do
		[[ $("${PSQL[@]}" "${db[@]}" -c "SELECT EXISTS (SELECT 1 FROM dbkit.dirty_objects WHERE deferred)
		      OR EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'dbkit reference re-read'
		                    AND datname = current_database())" 2>/dev/null) == t ]] || return 0
		sleep 0.05
	done
	return 1
}
# Runs the client; sets RC, OUT, ERR.
run() {
	set +e
	"$DBKIT" "$@" >"$WORK/out" 2>"$WORK/err"
	_run_result $?
}
_run_result() { # RC: sets RC, OUT, ERR from a client run's exit code and output files
	RC=$1
	set -e
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
# hold_session NAME SQL...: another session (application_name NAME) runs the statements, then
# sleeps holding what they took until end_session NAME ends it (a long sleep, never a short one:
# a loaded machine must not see it let go early). A test that stops early ends it too.
hold_session() {
	local name=$1 args=() sql
	shift
	for sql in "SET application_name = '$name'" "$@" "SELECT pg_sleep(600)"; do args+=(-c "$sql"); done
	"${PSQL[@]}" "${args[@]}" >/dev/null 2>&1 &
	HELD_PIDS[$name]=$!
	E2E_CLEANUP+=("end_session $name")
	wait_until 60 "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$name' AND wait_event = 'PgSleep'"
}
end_session() {
	q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '$1'" >/dev/null || true
	wait "${HELD_PIDS[$1]:-}" 2>/dev/null || true
}
declare -A HELD_PIDS=()
# hold_deploy_lock / release_deploy_lock: another session holds the deploy lock meanwhile.
hold_deploy_lock() { hold_session e2e_lock_holder "CALL dbkit_deploy_lock()" >/dev/null; }
release_deploy_lock() { end_session e2e_lock_holder; }
# run_until_lock_free ARGS...: runs the client in the background while hold_deploy_lock's session
# holds the lock; once the client waits for it, the holder goes (the session HOLDER names, if
# set, is ended instead). Sets RC, OUT, ERR as run does, and WAITED to 1 when the client was seen
# waiting for the lock.
run_until_lock_free() {
	local pid
	"$DBKIT" "$@" >"$WORK/out" 2>"$WORK/err" &
	pid=$!
	WAITED=$(wait_until 60 "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") || WAITED=0
	end_session "${HOLDER:-e2e_lock_holder}"
	set +e
	wait "$pid"
	_run_result $?
}
# lock_install DIR / unlock_install: an exclusive lock beside DIR (DIR.lock) around checking and
# filling it (npm ci into the build tree), so that two test runs sharing a build tree never install
# into one node_modules at once; the lock goes with the process too.
lock_install() {
	exec {INSTALL_LOCK_FD}>"$1.lock"
	flock "$INSTALL_LOCK_FD"
}
unlock_install() { exec {INSTALL_LOCK_FD}>&-; }
# A journal-layout meta/_journal.json: the tags given, in order, or without tags
# every DIR/*.sql in name order.
write_journal() { # dir [tag...]
	local dir=$1
	shift
	mkdir -p "$dir/meta"
	python3 - "$dir" "$@" <<'PY'
import glob, json, os, sys
d, tags = sys.argv[1], sys.argv[2:]
if tags:
    when = lambda i: 1795644700000 + i
else:
    tags = [os.path.basename(f)[:-4] for f in sorted(glob.glob(os.path.join(d, "*.sql")))]
    when = lambda i: 1700000000000 + i * 1000
entries = [{"idx": i, "version": "7", "when": when(i), "tag": t, "breakpoints": True} for i, t in enumerate(tags)]
json.dump({"version": "7", "dialect": "postgresql", "entries": entries}, open(os.path.join(d, "meta", "_journal.json"), "w"), indent=2)
PY
}
copy_fixture() { # src dest
	cp -r "$1" "$2"
}
# A schema dump that ignores dbkit's own data: what the migrations built.
schema_dump() { pg_dump -s -d "$PGDATABASE" --exclude-schema=dbkit | grep -v '^\\\(un\)\?restrict '; }
_e2e_summary() {
	local line="$PASSES passed, $FAILS failed"
	((${#FAILED_CASES[@]} == 0)) || line+=": $(printf '[%s] ' "${FAILED_CASES[@]}")"
	echo "${line% }"
}
finish() {
	_E2E_FINISHED=1
	if ((FAILS > 0)); then
		_e2e_summary >&2
		exit 1
	fi
	_e2e_summary
}
