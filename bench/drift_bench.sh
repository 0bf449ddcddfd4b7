#!/usr/bin/env bash
# Issue 4: time dbkit_drift() against pg_dump --schema-only on generated schemas, and
# dbkit_snapshot() on growing schemas.
#
#   bench/drift_bench.sh                 # N = 100 1000 10000, 5 timed runs after 1 warm-up
#   SIZES="100 1000" RUNS=3 bench/drift_bench.sh
#
# Each table: id bigint PK, parent_id bigint REFERENCES the previous table (the first one
# references itself), 8 more columns (text, varchar, 2 timestamptz, numeric, boolean,
# integer, jsonb), 2 extra indexes: 10 columns, 3 indexes (PK + 2), 2 constraints (PK + FK).
#
# Runs in a private throwaway cluster (scripts/pgcluster.sh), stopped on every exit.
# Prints a markdown report on stdout, progress on stderr. Every query runs in a fresh
# psql connection (like the dbkit CLI would): a cold backend, catalog caches empty.
#   wall   shell clock around the whole psql/pg_dump process (date +%s%N)
#   server clock_timestamp() before and after the query, in the same connection
#   cpu    CPU time (user+sys) of the backend for the query, from /proc/self/stat (10 ms ticks,
#          read with pg_read_file: the bench connects as the superuser postgres)
#   total  CPU of every server process (the postmaster's reaped children) + the client's
#          own (bash time): the fairest drift/pg_dump comparison when the machine is shared
# Drift runs and pg_dump runs are interleaved, so both see the same machine.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIZES=${SIZES:-"100 1000 10000"}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
# Before timing each size, wait (at most this many seconds) until the machine is idle
# (other processes below BENCH_QUIET_MAX % of all CPUs); the busy % seen is reported.
BENCH_QUIET_WAIT=${BENCH_QUIET_WAIT:-90}
BENCH_QUIET_MAX=${BENCH_QUIET_MAX:-15}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
# Durability off for fast generation only; shared_buffers and work_mem stay default.
# max_locks_per_transaction: pg_dump locks every table in one transaction (10,000 tables
# do not fit the default lock table of 64 x 100 slots).
export PG_CLUSTER_OPTS=${PG_CLUSTER_OPTS:-"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB -c checkpoint_timeout=30min -c max_locks_per_transaction=256"}
export PG_BIN

# shellcheck source=../scripts/pgcluster.sh
source "$here/../scripts/pgcluster.sh"
TMP=$(mktemp -d /tmp/drift_bench.XXXXXX)
trap 'pg_cluster_stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ns() { date +%s%N; }

# % of all CPUs busy over one second (our cluster is idle when this is called).
cpu_busy() {
	local a b
	read -r -a a < <(grep '^cpu ' /proc/stat)
	sleep 1
	read -r -a b < <(grep '^cpu ' /proc/stat)
	awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
		n = split(a, x, " "); split(b, y, " "); t = 0
		for (i = 2; i <= n; i++) t += y[i] - x[i]
		idle = (y[5] - x[5]) + (y[6] - x[6])
		printf "%.0f", (t > 0) ? 100 * (t - idle) / t : 0 }'
}

wait_quiet() {
	local deadline=$((SECONDS + BENCH_QUIET_WAIT)) busy
	busy=$(cpu_busy)
	while ((busy > BENCH_QUIET_MAX && SECONDS < deadline)); do
		log "machine busy (${busy}% of CPUs used by other processes), waiting"
		sleep 4
		busy=$(cpu_busy)
	done
	echo "$busy"
}

# median / min / max of the numbers given (one decimal).
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
	m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.1f %.1f %.1f", m, v[1], v[NR] }'; }
fmt_s() { awk -v ms="$1" 'BEGIN { if (ms >= 1000) printf "%.2f s", ms / 1000; else printf "%.0f ms", ms }'; }
fmt_row() { # median min max -> "median (min–max)"
	local m lo hi; read -r m lo hi <<<"$1"
	echo "$(fmt_s "$m") ($(fmt_s "$lo")–$(fmt_s "$hi"))"
}

q() { "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 "$@"; }

# Server clock (ms) and this backend's CPU time (ms, user+sys), in one row.
PROBE="SELECT (extract(epoch FROM clock_timestamp()) * 1000)::numeric(20,3) || ' ' ||
  (SELECT (s[12]::bigint + s[13]::bigint) * 10
     FROM string_to_array(split_part(pg_read_file('/proc/self/stat'), ') ', 2), ' ') s)"

# CPU time (ms) of the cluster's backends that have exited: the postmaster's cutime+cstime
# (it reaps its backends). Waits until the backends of the last command are gone.
postmaster_pid() { head -n1 "$PG_CLUSTER_DIR/data/postmaster.pid"; }
cluster_cpu() {
	local pm i
	pm=$(postmaster_pid)
	for ((i = 0; i < 200; i++)); do
		(($(pgrep -c -P "$pm" || true) <= PM_CHILDREN)) && break
		sleep 0.01
	done
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($14 + $15) * 1000 / hz }' "/proc/$pm/stat"
}

# run_measured CMD... -> T_WALL (ms), T_TOTALCPU (ms: the command's own CPU + the server's)
run_measured() {
	local t0 t1 c0 c1 cu cs TIMEFORMAT='%U %S'
	c0=$(cluster_cpu)
	t0=$(now_ns)
	{ time "$@" >"$TMP/out" 2>"$TMP/err"; } 2>"$TMP/time" || { cat "$TMP/err" >&2; die "failed: $*"; }
	t1=$(now_ns)
	c1=$(cluster_cpu)
	read -r cu cs <"$TMP/time"
	T_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
	T_TOTALCPU=$(awk -v a="$c0" -v b="$c1" -v u="$cu" -v s="$cs" 'BEGIN { printf "%.0f", b - a + 1000 * (u + s) }')
}

# time_query DB SQL -> T_WALL T_TOTALCPU, T_SERVER T_CPU (ms, the query alone in its backend),
# T_OUT (the query's output)
time_query() {
	local db=$1 sql=$2 first last
	run_measured q -d "$db" -c "$PROBE" -c "$sql" -c "$PROBE"
	first=$(head -n1 "$TMP/out"); last=$(tail -n1 "$TMP/out")
	T_OUT=$(sed '1d;$d' "$TMP/out")
	T_SERVER=$(awk -v a="$first" -v b="$last" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.1f", y[1] - x[1] }')
	T_CPU=$(awk -v a="$first" -v b="$last" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f", y[2] - x[2] }')
}

time_dump() { run_measured "$PG_BIN/pg_dump" --schema-only -d "$1" -f /dev/null; }

gen_schema() { # N -> SQL on stdout; a transaction per 500 tables
	awk -v n="$1" 'BEGIN {
	for (i = 1; i <= n; i++) {
		if ((i - 1) % 500 == 0) print "BEGIN;"
		t = sprintf("t_%05d", i); p = (i == 1) ? t : sprintf("t_%05d", i - 1)
		printf "CREATE TABLE %s (id bigint PRIMARY KEY, parent_id bigint REFERENCES %s (id), " \
		       "name text NOT NULL, email varchar(255), created_at timestamptz NOT NULL DEFAULT now(), " \
		       "updated_at timestamptz, amount numeric(12,2) DEFAULT 0, active boolean NOT NULL DEFAULT true, " \
		       "score integer, payload jsonb);\n", t, p
		printf "CREATE INDEX %s_parent_id_idx ON %s (parent_id);\n", t, t
		printf "CREATE INDEX %s_name_created_idx ON %s (name, created_at DESC);\n", t, t
		if (i % 500 == 0 || i == n) print "COMMIT;"
	} }'
}

installed_sum() {
	sha256sum "$("$PG_BIN/pg_config" --pkglibdir)/dbkit.so" \
		"$("$PG_BIN/pg_config" --sharedir)/extension/dbkit--0.1.0.sql" | awk '{print substr($1, 1, 12)}' | paste -sd' '
}

SNAP_SQL="SELECT count(*) FROM jsonb_object_keys(dbkit_snapshot())"
DRIFT_SQL="SELECT count(*) FROM dbkit_drift()"

started=$(date -u)
sum_start=$(installed_sum)
log "starting a private cluster (PG_CLUSTER_OPTS: $PG_CLUSTER_OPTS)"
pg_cluster_start
pg_version=$(q -c "SHOW server_version")
settings=$(q -F= -c "SELECT name, current_setting(name) FROM pg_settings WHERE name IN
  ('shared_buffers','work_mem','jit','max_parallel_workers_per_gather','fsync','max_locks_per_transaction') ORDER BY 1" |
	paste -sd' ')

PM_CHILDREN=$(pgrep -c -P "$(postmaster_pid)" || true)  # the auxiliary processes

declare -A R  # R[N,metric]: samples separated by spaces, then "median min max"
add() { # add N PREFIX: records the last measurement under PREFIX_{w,t,s,c}
	R[$1,$2_w]+=" $T_WALL"; R[$1,$2_t]+=" $T_TOTALCPU"
	R[$1,$2_s]+=" ${T_SERVER:-}"; R[$1,$2_c]+=" ${T_CPU:-}"
}
med() { local m; read -r m _ <<<"$1"; echo "$m"; }

# time_drift N DB KEY COUNT WHAT: RUNS timed dbkit_drift() calls after a warm-up, each
# finding exactly COUNT differences, recorded under KEY
time_drift() {
	local i
	for ((i = 1; i <= WARMUP + RUNS; i++)); do
		time_query "$2" "$DRIFT_SQL"
		[[ $T_OUT == "$4" ]] || die "N=$1: dbkit_drift() found $T_OUT differences $5, expected $4"
		if ((i > WARMUP)); then add "$1" "$3"; fi
	done
}

for n in $SIZES; do
	db=bench_$n
	log "N=$n: generating the schema"
	q -c "CREATE DATABASE $db" >/dev/null
	t0=$(now_ns)
	gen_schema "$n" | q -q -d "$db" >/dev/null
	R[$n,gen]=$(( ($(now_ns) - t0) / 1000000 ))
	R[$n,sum0]=$(installed_sum)
	q -d "$db" -c "CREATE EXTENSION dbkit" >/dev/null
	ext_version=$(q -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'dbkit'")
	t0=$(now_ns)
	R[$n,objects]=$(q -d "$db" -c "SELECT objects FROM dbkit_accept_drift('bench baseline')")
	R[$n,accept]=$(( ($(now_ns) - t0) / 1000000 ))
	R[$n,size]=$(q -d "$db" -c "SELECT pg_size_pretty(octet_length(snapshot::text)::bigint) FROM dbkit.snapshots ORDER BY id DESC LIMIT 1")
	# VACUUM as well as ANALYZE: 10,000 tables add ~300,000 pg_attribute rows, and autovacuum
	# would otherwise process the catalogs in the middle of the timings.
	q -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
	log "N=$n: $(q -d "$db" -c "SELECT count(*) FROM pg_class WHERE relname ~ '^t_[0-9]+\$'") tables, ${R[$n,objects]} snapshot entries, generated in ${R[$n,gen]} ms"

	R[$n,busy]=$(wait_quiet)
	R[$n,load]=$(cut -d' ' -f1-3 /proc/loadavg)
	for ((i = 1; i <= WARMUP + RUNS; i++)); do
		time_query "$db" "$SNAP_SQL"
		[[ $T_OUT == "${R[$n,objects]}" ]] || die "N=$n: dbkit_snapshot() has $T_OUT entries, expected ${R[$n,objects]}"
		if ((i > WARMUP)); then add "$n" snap; fi
		msg="snapshot $T_WALL ms"
		time_query "$db" "$DRIFT_SQL"
		if [[ $T_OUT != 0 ]]; then
			q -d "$db" -c "SELECT kind, object, change FROM dbkit_drift() LIMIT 10" >&2
			die "N=$n: dbkit_drift() found $T_OUT differences on an unchanged schema"
		fi
		if ((i > WARMUP)); then add "$n" drift; fi
		msg+=", drift $T_WALL ms (cpu $T_TOTALCPU ms)"
		T_SERVER='' T_CPU=''
		time_dump "$db"
		if ((i > WARMUP)); then add "$n" dump; fi
		log "N=$n run $i/$((WARMUP + RUNS))$( ((i > WARMUP)) || echo ' (warm-up)'): $msg, pg_dump $T_WALL ms (cpu $T_TOTALCPU ms)"
	done

	# One change made by hand: the drift check must find exactly it.
	q -d "$db" -c "ALTER TABLE $(printf t_%05d $((n >= 42 ? 42 : 1))) ADD COLUMN bench_extra integer" >/dev/null
	R[$n,found]=$(q -d "$db" -F' ' -c "SELECT kind, object, change FROM dbkit_drift()")
	time_drift "$n" "$db" found 1 "after adding one column"
	log "N=$n: drift with one change: $T_WALL ms (${R[$n,found]})"
	# Then a GRANT by hand as well: it names its table to the event triggers (no full read).
	q -d "$db" -c "GRANT SELECT ON $(printf t_%05d $((n >= 43 ? 43 : 2))) TO PUBLIC" >/dev/null
	time_drift "$n" "$db" grant 2 "after a GRANT more"
	log "N=$n: drift with a GRANT more: $T_WALL ms"
	R[$n,sum1]=$(installed_sum)
	# another make install while this size was timed: part of its numbers are another build
	[[ ${R[$n,sum0]} == "${R[$n,sum1]}" ]] || log "N=$n: WARNING: the installed dbkit changed while timing"
	[[ $n == "${SIZES##* }" ]] || q -c "DROP DATABASE $db" >/dev/null
	for k in snap drift dump found grant; do
		for m in w t s c; do
			# shellcheck disable=SC2086 # word splitting wanted: the samples
			if [[ -n ${R[$n,${k}_$m]// /} ]]; then R[$n,${k}_$m]=$(stats ${R[$n,${k}_$m]}); fi
		done
	done
done
sum_end=$(installed_sum)
finished=$(date -u)

# ---- report ----------------------------------------------------------------------------
ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.1fx", a / b }'; }
cat <<EOF
### Run of $started

- command: \`${BENCH_COMMAND:-bench/drift_bench.sh}\` (SIZES="$SIZES" RUNS=$RUNS WARMUP=$WARMUP), finished $finished
- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}')
- PostgreSQL $pg_version; cluster options \`$PG_CLUSTER_OPTS\`; $settings
- dbkit extension $ext_version, installed files sha256 (dbkit.so, dbkit--0.1.0.sql) ${sum_start}$(
	for n in $SIZES; do [[ ${R[$n,sum0]} == "$sum_start" && ${R[$n,sum1]} == "$sum_start" ]] ||
		printf '; **N=%s timed with %s**' "$n" "${R[$n,sum0]}$([[ ${R[$n,sum0]} == "${R[$n,sum1]}" ]] ||
			echo " then ${R[$n,sum1]}")"; done)$([[ $sum_end == "$sum_start" ]] ||
		printf ' (another build was installed during the run; %s at its end)' "$sum_end")
- each timing is a fresh connection (cold backend caches); median of $RUNS runs after $WARMUP warm-up, (min–max)
- queries: \`$SNAP_SQL\`, \`$DRIFT_SQL\`, \`pg_dump --schema-only -d DB -f /dev/null\`

Wall clock (the whole psql or pg_dump process, as a deploy script sees it):

| tables | snapshot entries (text) | dbkit_snapshot() | dbkit_drift(), no change | dbkit_drift(), 1 column added | dbkit_drift(), then a GRANT too | pg_dump --schema-only | pg_dump / drift |
|---:|---:|---|---|---|---|---|---:|
EOF
for n in $SIZES; do
	printf '| %s | %s (%s) | %s | %s | %s | %s | %s | **%s** |\n' "$n" "${R[$n,objects]}" "${R[$n,size]}" \
		"$(fmt_row "${R[$n,snap_w]}")" "$(fmt_row "${R[$n,drift_w]}")" "$(fmt_row "${R[$n,found_w]}")" \
		"$(fmt_row "${R[$n,grant_w]}")" \
		"$(fmt_row "${R[$n,dump_w]}")" "$(ratio "${R[$n,dump_w]}" "${R[$n,drift_w]}")"
done
cat <<EOF

Server time (clock_timestamp() around the query) and CPU time of its backend; total CPU = every server process +
the client (psql or pg_dump), less sensitive than wall clock to other jobs on the machine. Medians:

| tables | dbkit_snapshot() server / backend CPU | dbkit_drift() server / backend CPU | drift total CPU | pg_dump total CPU | pg_dump / drift (CPU) | machine before timing |
|---:|---|---|---:|---:|---:|---|
EOF
for n in $SIZES; do
	printf '| %s | %s / %s | %s / %s | %s | %s | %s | %s%% busy, load %s |\n' "$n" \
		"$(fmt_s "$(med "${R[$n,snap_s]}")")" "$(fmt_s "$(med "${R[$n,snap_c]}")")" \
		"$(fmt_s "$(med "${R[$n,drift_s]}")")" "$(fmt_s "$(med "${R[$n,drift_c]}")")" \
		"$(fmt_s "$(med "${R[$n,drift_t]}")")" "$(fmt_s "$(med "${R[$n,dump_t]}")")" \
		"$(ratio "${R[$n,dump_t]}" "${R[$n,drift_t]}")" "${R[$n,busy]}" "${R[$n,load]}"
done
echo
for n in $SIZES; do
	echo "- N=$n: schema generated in $(fmt_s "${R[$n,gen]}") (one psql, a transaction per 500 tables), dbkit_accept_drift() $(fmt_s "${R[$n,accept]}"); after \`ADD COLUMN bench_extra\` dbkit_drift() returns \`${R[$n,found]}\`"
done
last=${SIZES##* }
echo
awk -v n="$last" -v d="$(med "${R[$last,drift_w]}")" -v p="$(med "${R[$last,dump_w]}")" 'BEGIN {
	r = p / d
	printf "Target at N=%s (drift under 2 s and at least 5x faster than pg_dump): drift %.2f s, pg_dump %.2f s, ratio %.1fx: **%s**\n",
		n, d / 1000, p / 1000, r, (r >= 5 && d < 2000) ? "met" : "missed" }'
