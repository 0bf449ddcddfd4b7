#!/usr/bin/env bash
# Issue 6: how fast dbkit applies, no-ops, reports status and checks, against the floor
# (psql -1 -f of the concatenated SQL) and drizzle-orm's own node-postgres migrate().
#
#   bench/apply_bench.sh                      # everything, ~10 minutes on 2 cores
#   SIZES="200" RUNS=3 NOOP_RUNS=5 SECTIONS="apply noop" bench/apply_bench.sh   # sections: apply noop status check
#
# Needs: the extension installed in the system PostgreSQL 15 (make install), the client at
# $DBKIT (default build/client/dbkit), python3, node + npm (drizzle-orm@0.45.x and pg@8.x are
# installed into $NPM_DIR, default /tmp/dbkit-apply-bench-npm, reused when present; never the repo).
# Runs in a private throwaway cluster (scripts/pgcluster.sh), stopped on every exit.
# Prints a markdown report on stdout, progress on stderr. Every time is wall clock of the whole
# process (date +%s%N before and after), so client start-up, connection and folder reading count.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DBKIT=${DBKIT:-$here/../build/client/dbkit}
SIZES=${SIZES:-"200 1000"}
RUNS=${RUNS:-3}
NOOP_RUNS=${NOOP_RUNS:-5}
NOOP_N=${NOOP_N:-1000}
STATUS_N=${STATUS_N:-10000}
CHECK_SIZES=${CHECK_SIZES:-"2000 10000"}
SECTIONS=${SECTIONS:-"apply noop status check"}   # which parts to run
want_section() { [[ " $SECTIONS " == *" $1 "* ]]; }
NPM_DIR=${NPM_DIR:-/tmp/dbkit-apply-bench-npm}
# Durability off: commit cost is the same for every method and only adds noise. Many locks:
# 1,000 tables with 2 indexes and a foreign key each in one transaction.
export PG_CLUSTER_OPTS=${PG_CLUSTER_OPTS:-"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB -c checkpoint_timeout=30min -c max_locks_per_transaction=1024"}
[[ -x $DBKIT ]] || { echo "no dbkit client at $DBKIT" >&2; exit 1; }
DBKIT=$(cd "$(dirname "$DBKIT")" && pwd)/$(basename "$DBKIT")

# shellcheck source=../scripts/pgcluster.sh
source "$here/../scripts/pgcluster.sh"
TMP=$(mktemp -d /tmp/apply_bench.XXXXXX)
chmod 755 "$TMP"
trap 'pg_cluster_stop; rm -rf "$TMP"' EXIT
# A private copy of the client: a rebuild of build/ during the run cannot change or break it.
cp "$DBKIT" "$TMP/dbkit"
DBKIT_ID="$(sha256sum "$DBKIT" | cut -c1-12), built $(date -u -r "$DBKIT" '+%Y-%m-%d %H:%M:%S UTC')"
DBKIT=$TMP/dbkit
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ns() { date +%s%N; }
ms_since() { echo $((($(now_ns) - $1) / 1000)) | awk '{printf "%.1f", $1 / 1000}'; }
# stats "v1 v2 ...": median min max
stats() { python3 -c 'import statistics, sys; v = [float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.1f} {min(v):.1f} {max(v):.1f}")' $1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
verdict() { if [[ $1 == 1 ]]; then echo "**met**"; else echo "**MISSED**"; fi; }
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$PGDATABASE" -c "$1"; }
fresh_db() { # name: drop + create + CREATE EXTENSION dbkit (not timed)
	psql -X -qAt -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "CREATE EXTENSION dbkit" >/dev/null
	export PGDATABASE=$1
}

# --- drizzle-orm from npm ---------------------------------------------------------------
want='{"private": true, "dependencies": {"drizzle-orm": "0.45.x", "pg": "8.x"}}'
if [[ ! -f $NPM_DIR/node_modules/drizzle-orm/package.json || ! -f $NPM_DIR/node_modules/pg/package.json ]]; then
	log "npm install drizzle-orm@0.45.x pg@8.x into $NPM_DIR"
	mkdir -p "$NPM_DIR"
	printf '%s\n' "$want" >"$NPM_DIR/package.json"
	(cd "$NPM_DIR" && npm install --no-audit --no-fund --loglevel=error >&2) || die "npm install failed"
fi
cp "$here/../tests/e2e/drizzle_migrate.mjs" "$NPM_DIR/drizzle_migrate.mjs"
DRIZZLE_VERSION=$(node -p 'require(process.argv[1]).version' "$NPM_DIR/node_modules/drizzle-orm/package.json")

log "starting a private cluster"
pg_cluster_start
PG_VERSION=$(q 'SHOW server_version')
LOAD_BEFORE=$(uptime)

cat <<MD
## Issue 6: apply, no-op, status and check ($(date -u '+%Y-%m-%d %H:%M UTC'))

Command: \`bench/apply_bench.sh\` (SIZES="$SIZES" RUNS=$RUNS NOOP_RUNS=$NOOP_RUNS NOOP_N=$NOOP_N STATUS_N=$STATUS_N CHECK_SIZES="$CHECK_SIZES")

- Hardware: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}'); shared and noisy machine
- PostgreSQL $PG_VERSION (private cluster, $PG_CLUSTER_OPTS); drizzle-orm $DRIZZLE_VERSION (node-postgres migrate()), node $(node --version)
- dbkit client: $("$DBKIT" --version 2>&1 | head -1) (sha256 $DBKIT_ID); extension as installed in the system PostgreSQL 15
- Load before: \`$LOAD_BEFORE\`
- Every time: wall clock of the whole process (start to exit), ms. Fresh database per apply run (created, \`CREATE EXTENSION dbkit\`, not timed).

MD

# --- 1. apply N migrations on a fresh database --------------------------------------------
if want_section apply; then
cat <<'MD'
### Apply N generated migrations (table, 6 columns, FK, 2 indexes, COMMENT each: 5 statements)

| N | method | median | min | max | ratio to dbkit (median) |
|---|---|---|---|---|---|
MD
declare -A APPLY_NOTES
for n in $SIZES; do
	dir=$TMP/apply$n
	python3 "$here/gen_folder.py" "$n" "$dir" --all-sql "$TMP/all$n.sql"
	d=() f=() z=() e=() split=()
	for ((r = 1; r <= RUNS; r++)); do
		# the order of the methods rotates from run to run, so none always follows the same one
		order=(dbkit floor drizzle floor_noext)
		for ((k = 0; k < (r - 1) % 4; k++)); do order=("${order[@]:1}" "${order[0]}"); done
		log "apply N=$n run $r/$RUNS: ${order[*]}"
		for m in "${order[@]}"; do
			case $m in
			dbkit)
				fresh_db bench_a; t=$(now_ns)
				out=$("$DBKIT" migrate --dir "$dir" 2>&1) || die "dbkit migrate: $out"
				d+=("$(ms_since "$t")"); split+=("$(tail -1 <<<"$out")")
				[[ $(q 'SELECT count(*) FROM dbkit_status()') == "$n" ]] || die "dbkit did not record $n migrations" ;;
			floor)
				fresh_db bench_a; t=$(now_ns)
				psql -X -q -1 -v ON_ERROR_STOP=1 -f "$TMP/all$n.sql" >/dev/null || die "psql -1 -f failed"
				f+=("$(ms_since "$t")") ;;
			floor_noext) # the same without the extension: no DDL audit event triggers
				fresh_db bench_a; psql -X -qAt -v ON_ERROR_STOP=1 -c 'DROP EXTENSION dbkit' >/dev/null; t=$(now_ns)
				psql -X -q -1 -v ON_ERROR_STOP=1 -f "$TMP/all$n.sql" >/dev/null || die "psql -1 -f failed"
				e+=("$(ms_since "$t")") ;;
			drizzle)
				fresh_db bench_a; t=$(now_ns)
				node "$NPM_DIR/drizzle_migrate.mjs" "$dir" >"$TMP/dz.out" 2>&1 || die "drizzle migrate: $(cat "$TMP/dz.out")"
				z+=("$(ms_since "$t")")
				[[ $(q 'SELECT count(*) FROM drizzle.__drizzle_migrations') == "$n" ]] || die "drizzle did not record $n migrations" ;;
			esac
		done
	done
	read -r dm dmin dmax <<<"$(stats "${d[*]}")"
	read -r fm fmin fmax <<<"$(stats "${f[*]}")"
	read -r zm zmin zmax <<<"$(stats "${z[*]}")"
	echo "| $n | \`dbkit migrate --dir\` | $dm | $dmin | $dmax | 1.00 |"
	echo "| $n | floor: \`psql -X -q -1 -v ON_ERROR_STOP=1 -f all.sql\` | $fm | $fmin | $fmax | $(ratio "$fm" "$dm") |"
	echo "| $n | drizzle-orm migrate() (node, whole process) | $zm | $zmin | $zmax | $(ratio "$zm" "$dm") |"
	read -r em emin emax <<<"$(stats "${e[*]}")"
	echo "| $n | floor without the extension (no DDL audit event triggers) | $em | $emin | $emax | $(ratio "$em" "$dm") |"
	rf=$(ratio "$dm" "$fm"); rz=$(ratio "$dm" "$zm")
	APPLY_NOTES[$n]="N=$n: dbkit/floor = $rf (dbkit/floor without the extension = $(ratio "$dm" "$em")) (target ≤ 1.15: $(verdict "$(awk -v r="$rf" 'BEGIN{print (r <= 1.15)}')")), dbkit/drizzle = $rz (target < 1: $(verdict "$(awk -v r="$rz" 'BEGIN{print (r < 1)}')")). dbkit's own summary lines: $(printf '`%s`; ' "${split[@]}")"
done
echo
for n in $SIZES; do echo "- ${APPLY_NOTES[$n]}"; done
echo
fi

# --- 2. no-op deploy -----------------------------------------------------------------------
if want_section noop; then
log "no-op: N=$NOOP_N applied once by dbkit (which keeps drizzle's table in step)"
dir=$TMP/apply$NOOP_N
[[ -d $dir ]] || python3 "$here/gen_folder.py" "$NOOP_N" "$dir"
fresh_db bench_noop
"$DBKIT" migrate --dir "$dir" >/dev/null 2>&1 || die "dbkit migrate (setup)"
node "$NPM_DIR/drizzle_migrate.mjs" "$dir" >/dev/null 2>&1 || die "drizzle (warm-up)"
[[ $(q 'SELECT count(*) FROM drizzle.__drizzle_migrations') == "$NOOP_N" ]] || die "drizzle applied something on the no-op"
d=() z=() split=()
for ((r = 1; r <= NOOP_RUNS; r++)); do
	t=$(now_ns); out=$("$DBKIT" migrate --dir "$dir" 2>&1) || die "dbkit no-op: $out"; d+=("$(ms_since "$t")"); split+=("$(tail -1 <<<"$out")")
	t=$(now_ns); node "$NPM_DIR/drizzle_migrate.mjs" "$dir" >/dev/null 2>&1 || die "drizzle no-op"; z+=("$(ms_since "$t")")
done
[[ $(q 'SELECT count(*) FROM drizzle.__drizzle_migrations') == "$NOOP_N" && $(q 'SELECT count(*) FROM dbkit_status()') == "$NOOP_N" ]] || die "a no-op applied something"
read -r dm dmin dmax <<<"$(stats "${d[*]}")"
read -r zm zmin zmax <<<"$(stats "${z[*]}")"
rz=$(ratio "$zm" "$dm")
cat <<MD
### No-op deploy, N=$NOOP_N applied (median of $NOOP_RUNS, interleaved)

| method | median | min | max |
|---|---|---|---|
| \`dbkit migrate --dir\` | $dm | $dmin | $dmax |
| drizzle-orm migrate() (node, whole process) | $zm | $zmin | $zmax |

- drizzle/dbkit = $rz. Targets: dbkit < 100 ms: $(verdict "$(awk -v a="$dm" 'BEGIN{print (a < 100)}')"); ≥ 3x faster than drizzle: $(verdict "$(awk -v r="$rz" 'BEGIN{print (r >= 3)}')").
- dbkit's summary: \`${split[0]}\`

MD
fi

# --- 3. status with STATUS_N migrations in history ----------------------------------------
if want_section status || want_section check; then
dir=$TMP/small$STATUS_N
python3 "$here/gen_folder.py" "$STATUS_N" "$dir" --small
fresh_db bench_status
log "status: applying $STATUS_N tiny migrations with dbkit migrate"
t=$(now_ns)
if out=$(timeout "${STATUS_APPLY_TIMEOUT:-300}" "$DBKIT" migrate --dir "$dir" 2>&1); then
	how="applied once with \`dbkit migrate --dir\` in $(ms_since "$t") ms (\`$(tail -1 <<<"$out")\`)"
else
	log "dbkit migrate of $STATUS_N did not finish: baseline instead"
	fresh_db bench_status
	last=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["entries"][-1]["tag"])' "$dir/meta/_journal.json")
	"$DBKIT" baseline "$last" --dir "$dir" --reason bench >/dev/null || die "baseline"
	how="recorded with \`dbkit baseline $last --dir\` (dbkit migrate did not finish within the timeout: $(tail -1 <<<"$out"))"
fi
[[ $(q 'SELECT count(*) FROM dbkit_status()') == "$STATUS_N" ]] || die "history is not $STATUS_N rows"
c=() h=() s=() a=() ca=() rd=() p1=()
for ((r = 1; r <= NOOP_RUNS; r++)); do
	t=$(now_ns); "$DBKIT" status --dir "$dir" >/dev/null || die "dbkit status --dir"; c+=("$(ms_since "$t")")
	t=$(now_ns); "$DBKIT" status --dir "$dir" --all >/dev/null || die "dbkit status --dir --all"; ca+=("$(ms_since "$t")")
	t=$(now_ns); "$DBKIT" status >/dev/null || die "dbkit status"; h+=("$(ms_since "$t")")
	t=$(now_ns); "$DBKIT" status --all >/dev/null || die "dbkit status --all"; a+=("$(ms_since "$t")")
	# baselines: only reading the folder's files; only connecting and running one query
	t=$(now_ns); cat "$dir"/*.sql "$dir/meta/_journal.json" >/dev/null; rd+=("$(ms_since "$t")")
	t=$(now_ns); psql -X -qAt -c 'SELECT 1' >/dev/null; p1+=("$(ms_since "$t")")
	# server time, each in a fresh connection (cold backend), like the client
	s+=("$(psql -X -qAt -v ON_ERROR_STOP=1 <<'SQL'
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM dbkit_status() \g /dev/null
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000, 1);
SQL
)")
done
read -r cm cmin cmax <<<"$(stats "${c[*]}")"
read -r hm hmin hmax <<<"$(stats "${h[*]}")"
read -r sm smin smax <<<"$(stats "${s[*]}")"
read -r cam camin camax <<<"$(stats "${ca[*]}")"
read -r am amin amax <<<"$(stats "${a[*]}")"
read -r rdm rdmin rdmax <<<"$(stats "${rd[*]}")"
read -r p1m p1min p1max <<<"$(stats "${p1[*]}")"
cat <<MD
### Status with $STATUS_N migrations in history (median of $NOOP_RUNS)

History $how.

| what | median | min | max |
|---|---|---|---|
| \`dbkit status\` (client, whole process; the history: its newest 20 rows and the total) | $hm | $hmin | $hmax |
| \`dbkit status --all\` (client, whole process; every row of the history) | $am | $amin | $amax |
| \`SELECT count(*) FROM dbkit_status()\` (server, clock_timestamp, fresh connection) | $sm | $smin | $smax |
| \`dbkit status --dir\` (client, whole process; folder of $STATUS_N against the history) | $cm | $cmin | $cmax |
| \`dbkit status --dir --all\` (the same, every row printed) | $cam | $camin | $camax |
| baseline: \`psql -X -qAt -c 'SELECT 1'\` (process start, connection, one query) | $p1m | $p1min | $p1max |
| baseline: \`cat DIR/*.sql DIR/meta/_journal.json > /dev/null\` (only reading the folder's $STATUS_N files) | $rdm | $rdmin | $rdmax |

- Target: \`dbkit status\` client < 50 ms: $(verdict "$(awk -v a="$hm" 'BEGIN{print (a < 50)}')") ($hm ms; $(ratio "$hm" "$p1m")x \`psql -c 'SELECT 1'\`). With \`--all\`: $(verdict "$(awk -v a="$am" 'BEGIN{print (a < 50)}')") ($am ms).
- \`dbkit status --dir\` < 50 ms: $(verdict "$(awk -v a="$cm" 'BEGIN{print (a < 50)}')") ($cm ms, $(ratio "$cm" "$rdm")x the time \`cat\` takes just to read the same files).

MD
fi

# --- 4. check ------------------------------------------------------------------------------
if want_section check; then
cat <<MD
### \`dbkit check --dir\` (median of $NOOP_RUNS; tiny one-table migrations, all applied)

| N | mode | median | min | max | exit code |
|---|---|---|---|---|---|
MD
for n in $CHECK_SIZES; do
	if [[ $n == "$STATUS_N" ]]; then
		db=bench_status; cdir=$TMP/small$n
	else
		cdir=$TMP/small$n
		python3 "$here/gen_folder.py" "$n" "$cdir" --small
		fresh_db bench_check$n
		"$DBKIT" migrate --dir "$cdir" >/dev/null 2>&1 || die "dbkit migrate (check setup $n)"
		db=bench_check$n
	fi
	export PGDATABASE=$db
	for mode in online offline; do
		flag=(); [[ $mode == offline ]] && flag=(--offline)
		v=(); rc=0
		for ((r = 1; r <= NOOP_RUNS; r++)); do
			t=$(now_ns); set +e; "$DBKIT" check --dir "$cdir" "${flag[@]}" >/dev/null 2>&1; rc=$?; set -e; v+=("$(ms_since "$t")")
		done
		read -r m mi ma <<<"$(stats "${v[*]}")"
		echo "| $n | \`dbkit check --dir${flag[*]:+ ${flag[*]}}\` | $m | $mi | $ma | $rc |"
	done
done
echo
fi
echo "- Load after: \`$(uptime)\`"
echo
log "done"
