#!/usr/bin/env bash
# Issue 17 item 11: what the DDL audit costs a temp-table-heavy workload (a temp
# table per request), with and without the extension.
#
#   bench/audit_temp_bench.sh                 # TX=5000 transactions per run, ROUNDS=5, ~1 minute
#   TX=2000 ROUNDS=3 bench/audit_temp_bench.sh
#
# Each transaction: CREATE TEMP TABLE ... ON COMMIT DROP (serial primary key, so a
# sequence and an index too), INSERT 10 rows, SELECT, COMMIT, run by pgbench (one
# client, one connection). Three databases in one private cluster, measured in turn
# within each round: `plain` (no extension), `dbkit` (extension, audit on, the
# default), `dbkit_audit_off` (extension, ALTER DATABASE ... SET dbkit.audit = off).
# Needs the extension installed (make install); prints a markdown table on stdout
# and asserts that the audit table stayed empty.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TX=${TX:-5000}
ROUNDS=${ROUNDS:-5}
PGBENCH=${PGBENCH:-/usr/lib/postgresql/15/bin/pgbench}
export PG_CLUSTER_OPTS=${PG_CLUSTER_OPTS:-"-c fsync=off -c synchronous_commit=off"}
# shellcheck source=../scripts/pgcluster.sh
source "$here/../scripts/pgcluster.sh"
TMP=$(mktemp -d /tmp/audit_temp_bench.XXXXXX)
chmod 755 "$TMP"
trap 'pg_cluster_stop; rm -rf "$TMP"' EXIT
pg_cluster_start
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }

cat >"$TMP/temp.sql" <<'SQL'
BEGIN;
CREATE TEMP TABLE req_scratch (id serial PRIMARY KEY, v text) ON COMMIT DROP;
INSERT INTO req_scratch (v) SELECT 'x' FROM generate_series(1, 10);
SELECT count(*) FROM req_scratch;
COMMIT;
SQL
[[ $(id -u) -eq 0 ]] && chown postgres: "$TMP/temp.sql"

for db in plain dbkit dbkit_audit_off; do
	psql -d postgres -c "CREATE DATABASE $db"
done
psql -d dbkit -c 'CREATE EXTENSION dbkit'
psql -d dbkit_audit_off -c 'CREATE EXTENSION dbkit' -c 'ALTER DATABASE dbkit_audit_off SET dbkit.audit = off'

run() {  # db -> transactions per second (excluding connection time)
	"$PGBENCH" -n -c 1 -t "$TX" -f "$TMP/temp.sql" "$1" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p'
}
declare -A all
for ((r = 1; r <= ROUNDS; r++)); do
	for db in plain dbkit dbkit_audit_off; do
		tps=$(run "$db")
		[[ -n $tps ]] || { echo "pgbench failed on $db" >&2; exit 1; }
		all[$db]+="$tps "
		echo "round $r $db: $tps tps" >&2
	done
done
rows=$(psql -At -d dbkit -c 'SELECT count(*) FROM dbkit.ddl_audit')
[[ $rows == 0 ]] || { echo "FAIL: $rows audit rows after a temp-table-only workload" >&2; exit 1; }

median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
p=$(echo "${all[plain]}" | median)
echo "| database | tps (median of $ROUNDS, $TX transactions each) | runs | time per transaction vs no extension |"
echo "|---|---|---|---|"
for db in plain dbkit dbkit_audit_off; do
	m=$(echo "${all[$db]}" | median)
	echo "| $db | $m | ${all[$db]}| $(awk -v p="$p" -v m="$m" 'BEGIN {printf "%.3f", p / m}') |"
done
echo
echo "dbkit.ddl_audit rows after the runs: $rows"
