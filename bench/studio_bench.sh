#!/usr/bin/env bash
# Issue 12: how long the studio's migrations view takes to render with 10,000 history rows,
# in headless chromium (Debian's, driven by playwright-core). Measured, not asserted (target < 1 s).
#
#   bench/studio_bench.sh            # N=10000, RUNS=5
#   N=2000 RUNS=3 bench/studio_bench.sh
#
# Needs: the extension installed (make install), the client at $DBKIT (default build/client/dbkit),
# python3, node + npm, /usr/bin/chromium. playwright-core is installed from
# tests/e2e/browser/package-lock.json into build/studio-browser (npm ci; no browser download;
# STUDIO_BROWSER_DIR elsewhere, e.g. when DBKIT is a copy outside a build folder).
# A private throwaway cluster (scripts/pgcluster.sh) is stopped on every exit. Prints markdown.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DBKIT=${DBKIT:-$here/../build/client/dbkit}
N=${N:-10000}
RUNS=${RUNS:-5}
[[ -x $DBKIT ]] || { echo "no dbkit client at $DBKIT" >&2; exit 1; }
DBKIT=$(cd "$(dirname "$DBKIT")" && pwd)/$(basename "$DBKIT")
BUILD=$(cd "$(dirname "$DBKIT")/.." && pwd)
# 10,000 tables created in one transaction: many locks.
export PG_CLUSTER_OPTS=${PG_CLUSTER_OPTS:-"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_locks_per_transaction=1024"}
source "$here/../scripts/pgcluster.sh"
TMP=$(mktemp -d /tmp/studio_bench.XXXXXX)
chmod 755 "$TMP"
SPID=
trap '[[ -n $SPID ]] && kill $SPID 2>/dev/null; pg_cluster_stop; rm -rf "$TMP"' EXIT

NM=${STUDIO_BROWSER_DIR:-$BUILD/studio-browser}
mkdir -p "$NM"
if ! cmp -s "$here/../tests/e2e/browser/package-lock.json" "$NM/package-lock.json" || [[ ! -d $NM/node_modules/playwright-core ]]; then
	cp "$here/../tests/e2e/browser/package.json" "$here/../tests/e2e/browser/package-lock.json" "$NM/"
	(cd "$NM" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
fi

echo "cluster, $N migrations (gen_folder.py --small), dbkit migrate" >&2
pg_cluster_start
psql -X -q -c 'CREATE DATABASE bench'
export PGDATABASE=bench
"$DBKIT" init >/dev/null
python3 "$here/gen_folder.py" "$N" "$TMP/m" --small
t0=$(date +%s%N)
"$DBKIT" migrate --dir "$TMP/m" >/dev/null
t1=$(date +%s%N)
echo "migrated in $(((t1 - t0) / 1000000)) ms" >&2
rows=$(psql -X -A -t -c 'SELECT count(*) FROM dbkit.migrations')

# The last two modes change something before each load (outside the timing), so
# the studio's caches miss: a write anywhere in the cluster (the answer is computed
# again), a touched migration file (the folder is read again too).
declare -A res
for mode in history folder folder_db folder_file; do
	args=()
	between=
	[[ $mode == folder* ]] && args=(--dir "$TMP/m")
	[[ $mode == folder_db ]] && between="psql -X -q -c 'SELECT pg_catalog.pg_current_xact_id()' >/dev/null"
	[[ $mode == folder_file ]] && between="touch '$TMP/m/0000_bench_0.sql'"
	"$DBKIT" studio --port 0 "${args[@]}" >"$TMP/studio.out" 2>&1 &
	SPID=$!
	for _ in $(seq 100); do grep -q http "$TMP/studio.out" && break; sleep 0.1; done
	url=$(grep -o 'http://[^ ]*' "$TMP/studio.out")
	res[$mode]=$(BETWEEN=$between STUDIO_URL=$url RUNS=$RUNS STUDIO_NODE_MODULES=$NM/node_modules EXPECT=$rows node "$here/studio_bench.mjs")
	kill $SPID
	wait $SPID 2>/dev/null || true
	SPID=
done

cpu=$(nproc)
model=$(lscpu | grep 'Model name' | cut -d: -f2 | sed 's/^ *//')
mem="$(free -g | awk '/^Mem:/ {print $2}') GiB"
cat <<MD
### Studio migrations view, $(date -u)

- command: \`bench/studio_bench.sh\` (N=$N RUNS=$RUNS); $rows rows in dbkit.migrations
- machine (\`nproc\`, \`lscpu | grep 'Model name'\`, \`free -g\`): $cpu CPUs, $model, $mem RAM; load before timing: $(cut -d' ' -f1-3 /proc/loadavg)
- $(chromium --version 2>/dev/null | head -1), playwright-core $(node -p "require('$NM/node_modules/playwright-core/package.json').version"), $(psql -X -A -t -c 'SHOW server_version' | cut -d' ' -f1)
- measured: from \`page.goto(#migrations)\` to the view marked ready (the JSON fetched, the first rows in the DOM)
  and then to the next animation frame (painted); median of $RUNS fresh page loads (min–max); the API alone by curl

| view | API response (curl) | page load to rows painted | of which: fetch + render in the page |
|---|---|---|---|
| history only (no --dir): dbkit_status() | ${res[history]} |
| with --dir (dbkit_status(folder), $N files) | ${res[folder]} |
| with --dir, a write to the database before each load | ${res[folder_db]} |
| with --dir, a migration file touched before each load | ${res[folder_file]} |
MD
