#!/usr/bin/env bash
# Issue 14, what is left of a deploy's cost: the per-object re-read of a deploy's objects
# (dbkit._snapshot_entries_of, what every default-path deploy runs before its commit),
# called twice in one fresh connection, at SIZES tables. The first call pays the backend's
# warm-up (plpgsql loaded, every statement parsed and planned, catalog caches filled); the
# second is the read itself. A cost that does not grow with the schema shows as the same
# numbers at every size.
#
#   bench/first_call_bench.sh                      # SIZES="1 2000 10000", RUNS=7
#   PG_BIN=/opt/pg13/lib/postgresql/15/bin SIZES="1 2000" RUNS=5 bench/first_call_bench.sh
#
# Prints a markdown table on stdout, progress on stderr. Times are the server's own
# (psql's \timing of each statement, the connection already made).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIZES=${SIZES:-"1 2000 10000"}
RUNS=${RUNS:-7}
source "$here/engine_common.sh"
STARTED=$(date -u)
pg_cluster_start
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ms of the Nth "Time:" line psql printed
nth_ms() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sed -n "$1p"; }

ROWS=""
for n in $SIZES; do
	log "N=$n: generating the schema"
	q -c "CREATE DATABASE fc$n"
	make_tables "fc$n" "$n"
	q -d "fc$n" -c "CREATE EXTENSION dbkit" -c "SELECT count(*) FROM dbkit_accept_drift('bench base')" >/dev/null
	q -d "fc$n" -c "VACUUM ANALYZE"
	FIRST=() SECOND=() BASE=()
	for ((r = 0; r <= RUNS; r++)); do  # run 0 warms the files up, not counted
		out=$("$PG_BIN/psql" -X -q -d "fc$n" <<'SQL'
\timing on
SELECT 1;
SELECT count(*) FROM dbkit._snapshot_entries_of('drizzle', '__drizzle_migrations', ARRAY['t1'::regclass::oid, 't1_id_seq'::regclass::oid]);
SELECT count(*) FROM dbkit._snapshot_entries_of('drizzle', '__drizzle_migrations', ARRAY['t1'::regclass::oid, 't1_id_seq'::regclass::oid]);
SQL
)
		((r)) || continue
		BASE+=("$(nth_ms 1 <<<"$out")") FIRST+=("$(nth_ms 2 <<<"$out")") SECOND+=("$(nth_ms 3 <<<"$out")")
	done
	S1=$(stats "${FIRST[@]}") S2=$(stats "${SECOND[@]}") S0=$(stats "${BASE[@]}")
	log "N=$n: first call $S1, second $S2 (median min max, ms)"
	ROWS+="| $n | $(q -d "fc$n" -c "SELECT count(*) FROM dbkit.reference_objects") | $(fmt_row "$S1") | $(fmt_row "$S2") | $(fmt_row "$S0") |
"
	q -c "DROP DATABASE fc$n"
done

cat <<EOF
### Run of $STARTED (\`bench/first_call_bench.sh\`)

- command: \`PG_BIN=$PG_BIN SIZES="$SIZES" RUNS=$RUNS bench/first_call_bench.sh\`
- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}'); load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)
- dbkit.so $SO_ID; each run a fresh connection; median (min–max) of $RUNS, psql's \\timing

| tables | reference entries | first call in the connection | second call | \`SELECT 1\` first in the connection |
|---:|---:|---|---|---|
$ROWS
EOF
