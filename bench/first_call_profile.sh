#!/usr/bin/env bash
# Issue 14, what is left of a deploy's cost: where a fresh backend spends the first call of the
# per-object re-read (dbkit._snapshot_entries_of, what a default-path deploy runs before its
# commit). perf samples the backend during that one call, in RUNS fresh connections, and each
# sample is put in the phase its stack shows: plpgsql preparing a statement (parse analysis),
# planning it, executing it, or the rest of the backend.
#
#   bench/first_call_profile.sh                    # N=2000 tables, RUNS=5
#   PG_BIN=/opt/pg13/lib/postgresql/15/bin N=1 RUNS=3 bench/first_call_profile.sh
#
# Needs perf (Debian: linux-perf) and permission to attach to the server's processes (root).
# Debian's postgres binary has no local symbols: phases are told apart by the exported
# functions on the stack (SPI_prepare_extended, GetCachedPlan, ...), which are enough.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=${N:-2000}
RUNS=${RUNS:-5}
command -v perf >/dev/null || { echo "perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }
source "$here/engine_common.sh"
STARTED=$(date -u)
pg_cluster_start
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

q -c "CREATE DATABASE fp"
make_tables fp "$N"
q -d fp -c "CREATE EXTENSION dbkit" -c "SELECT count(*) FROM dbkit_accept_drift('bench base')" >/dev/null
q -d fp -c "VACUUM ANALYZE"
READ="SELECT count(*) FROM dbkit._snapshot_entries_of('drizzle', '__drizzle_migrations', ARRAY['t1'::regclass::oid, 't1_id_seq'::regclass::oid])"
chmod 777 "$TMP"
for ((r = 0; r <= RUNS; r++)); do  # run 0 warms the files up, not counted
	rm -f "$TMP/perf.data"
	"$PG_BIN/psql" -X -q -d fp >/dev/null <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv PID :pid
\! perf record -q -F 10000 -g -p "\$PID" -o "$TMP/perf.data" >/dev/null 2>&1 & echo \$! >"$TMP/perf.pid"; sleep 1
$READ;
\! sleep 0.3; kill -INT "\$(cat "$TMP/perf.pid")"; while kill -0 "\$(cat "$TMP/perf.pid")" 2>/dev/null; do sleep 0.1; done
SQL
	((r)) || continue
	perf script -i "$TMP/perf.data" -F ip,sym 2>/dev/null >>"$TMP/stacks.txt"
	echo >>"$TMP/stacks.txt"
done

TABLE=$(python3 - "$TMP/stacks.txt" "$RUNS" <<'PY'
import collections, sys
samples, cur = [], []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        if cur:
            samples.append(set(cur))
        cur = []
        continue
    parts = line.split(None, 1)
    cur.append(parts[1] if len(parts) > 1 else parts[0])
if cur:
    samples.append(set(cur))
phases = collections.Counter()
for s in samples:
    if 'plpgsql_exec_function' in s:
        if 'SPI_prepare_extended' in s: k = 'preparing dbkit\'s statements (parse analysis)'
        elif 'GetCachedPlan' in s: k = 'planning them'
        else: k = 'executing them (the catalog reads)'
    elif 'PostgresMain' in s: k = 'the rest of the backend (the client\'s statement, catalog caches)'
    else: k = 'no PostgreSQL frame on the stack (kernel: page faults of new memory, ...)'
    phases[k] += 1
total = sum(phases.values())
runs = int(sys.argv[2])
for k, v in phases.most_common():
    print(f"| {k} | {100 * v / total:.0f}% |")
print(f"| all ({total} samples over {runs} calls) | 100% |")
PY
)

cat <<EOF
### Run of $STARTED (\`bench/first_call_profile.sh\`)

- command: \`PG_BIN=$PG_BIN N=$N RUNS=$RUNS bench/first_call_profile.sh\`
- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}'); load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)
- dbkit.so $SO_ID; $N tables; perf at 10 kHz on the backend, the first call of the re-read in each of $RUNS fresh connections (perf's unwinding slows the backend about twofold: shares, not times; bench/first_call_bench.sh times the call)

| phase | share of samples |
|---|---:|
$TABLE
EOF
