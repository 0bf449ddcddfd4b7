# shellcheck shell=bash disable=SC2034
# Source this file: helpers shared by bench/engine_generate_bench.sh and engine_drift_bench.sh
# (issue 10). Needs $here (the bench directory) set by the caller.
#   PG_BIN   the PostgreSQL 15 binaries with dbkit installed (default /usr/lib/postgresql/15/bin;
#            a private copy such as /opt/pgbench/lib/postgresql/15/bin works: its pg_config says
#            where dbkit.so and dbkit.control must be)
#   DBKIT    the client (default build/client/dbkit); copied into the run's temp dir
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DBKIT=${DBKIT:-$here/../build/client/dbkit}
export PG_BIN
export PG_CLUSTER_OPTS=${PG_CLUSTER_OPTS:-"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB -c checkpoint_timeout=30min -c max_locks_per_transaction=1024"}
[[ -x $DBKIT ]] || { echo "no dbkit client at $DBKIT" >&2; exit 1; }
[[ -f $("$PG_BIN/pg_config" --pkglibdir)/dbkit.so ]] ||
	{ echo "dbkit.so is not installed in $("$PG_BIN/pg_config" --pkglibdir) (PG_BIN=$PG_BIN)" >&2; exit 1; }
DBKIT=$(cd "$(dirname "$DBKIT")" && pwd)/$(basename "$DBKIT")

# shellcheck source=../scripts/pgcluster.sh
source "$here/../scripts/pgcluster.sh"
TMP=$(mktemp -d /tmp/engine_bench.XXXXXX)
chmod 755 "$TMP"
trap 'pg_cluster_stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
DBKIT_ID="$(sha256sum "$DBKIT" | cut -c1-12), built $(date -u -r "$DBKIT" '+%Y-%m-%d %H:%M:%S UTC')"
cp "$DBKIT" "$TMP/dbkit"
DBKIT=$TMP/dbkit
SO_ID=$(sha256sum "$("$PG_BIN/pg_config" --pkglibdir)/dbkit.so" | cut -c1-12)

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ns() { date +%s%N; }
# stats v1 v2 ...: "median min max" (ms, one decimal)
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
	m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.1f %.1f %.1f", m, v[1], v[NR] }'; }
med() { local m; read -r m _ <<<"$1"; echo "$m"; }
fmt_s() { awk -v ms="$1" 'BEGIN { if (ms >= 1000) printf "%.2f s", ms / 1000; else printf "%.0f ms", ms }'; }
fmt_row() { local m lo hi; read -r m lo hi <<<"$1"; echo "$(fmt_s "$m") ($(fmt_s "$lo")–$(fmt_s "$hi"))"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
q() { "$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 "$@"; }

# timed [ok-codes] CMD... : T_MS (wall clock of the whole process, ms), T_CPU (user+sys of the
# process and its children, ms; the server's CPU is not in it), RC; output in $TMP/out, $TMP/err.
timed() {
	local ok=$1 t0 t1 u s TIMEFORMAT='%U %S'
	shift
	t0=$(now_ns)
	set +e
	{ time "$@" >"$TMP/out" 2>"$TMP/err"; } 2>"$TMP/time"
	RC=$?
	set -e
	t1=$(now_ns)
	[[ " $ok " == *" $RC "* ]] || { cat "$TMP/out" "$TMP/err" >&2; die "exit $RC: $*"; }
	read -r u s <"$TMP/time"
	T_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
	T_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", 1000 * (u + s) }')
}

machine_lines() {
	echo "- machine: \`nproc\` = $(nproc), $(lscpu | sed -n 's/^Model name: *//p' | head -n1), \`free -g\`: $(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}'); **shared**: other sessions were compiling and testing on the same CPUs (load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg))"
	echo "- PostgreSQL $PG_VERSION from \`$PG_BIN\` in a private throwaway cluster (scripts/pgcluster.sh: Unix socket in a mktemp dir, no TCP); options \`$PG_CLUSTER_OPTS\`"
	echo "- dbkit client $DBKIT_ID; dbkit.so $SO_ID; git $(cd "$here/.." && git rev-parse --short HEAD)$(cd "$here/.." && git diff --quiet HEAD -- extension client sql || echo ' + uncommitted changes')"
}
# make_tables DB N: N tables t1..tN (a serial key, a default, one more index each), a
# transaction per 500 (scale_bench.sh, first_call_bench.sh)
make_tables() {
	q -d "$1" -c "DO \$\$ BEGIN FOR b IN 0..$((($2 - 1) / 500)) LOOP
		FOR i IN b * 500 + 1 .. least(b * 500 + 500, $2) LOOP
			EXECUTE format('CREATE TABLE t%s (id serial PRIMARY KEY, name text NOT NULL DEFAULT %L, ref int, created timestamptz DEFAULT now())', i, 'x');
			EXECUTE format('CREATE INDEX ON t%s (ref)', i);
		END LOOP; COMMIT; END LOOP; END \$\$"
}
