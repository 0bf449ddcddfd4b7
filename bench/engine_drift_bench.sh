#!/usr/bin/env bash
# Issue 10: `dbkit drift --dir` (the live schema against the migrations' reference AND against
# the code's schema built by PostgreSQL in the shadow, cached per content hash in
# dbkit.code_schemas) against `pg_dump -s` of the same database.
#
#   PG_BIN=/opt/pgbench/lib/postgresql/15/bin bench/engine_drift_bench.sh
#   TABLES=2000 RUNS=5 SHADOW_RUNS=3 ...
#
# bench/gen_folder.py TABLES: a journal-layout folder, one migration per table (6 columns, a FK
# to the previous table, 2 indexes, a COMMENT), applied with `dbkit migrate --dir`.
#   cold      the first `dbkit drift --dir` after migrate: builds the shadow (replays the
#             TABLES migrations in a rolled-back subtransaction) and fills the cache
#   uncached  SHADOW_RUNS more runs, each after emptying both caches, dbkit.code_schemas and dbkit.code_drift_results (not timed):
#             the shadow built every time
#   cached    RUNS runs alternating with RUNS `pg_dump -s -f /dev/null` (order swapping every
#             run): the code's side comes from the cache, no shadow
#   changed   `ALTER TABLE t<TABLES/2> ADD COLUMN bench_extra integer` out of band, then one
#             `dbkit drift --dir` (exit 4, the column named) and one pg_dump -s
# Wall clock of whole processes; every run is a fresh connection (a cold backend).
set -euo pipefail
# shellcheck disable=SC2034 # PG_VERSION, LOAD_BEFORE: read by machine_lines in engine_common.sh
STARTED=$(date -u)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TABLES=${TABLES:-2000}
RUNS=${RUNS:-5}
SHADOW_RUNS=${SHADOW_RUNS:-3}
# shellcheck source=engine_common.sh
source "$here/engine_common.sh"

F=$TMP/folder
python3 "$here/gen_folder.py" "$TABLES" "$F"
log "starting a private cluster"
pg_cluster_start
PG_VERSION=$(q -c 'SHOW server_version')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
q -c "CREATE DATABASE drift" && export PGDATABASE=drift
q -c "CREATE EXTENSION dbkit"
log "dbkit migrate --dir ($TABLES migrations)"
timed 0 "$DBKIT" migrate --dir "$F"
MIGRATE_MS=$T_MS
q -c "VACUUM ANALYZE" -c "CHECKPOINT"
log "applied in $(fmt_s "$MIGRATE_MS")"

drift() { "$DBKIT" drift --dir "$F"; }
dump() { "$PG_BIN/pg_dump" -s -f /dev/null; }
cache_rows() { q -c "SELECT count(*) FROM dbkit.code_schemas"; }

[[ $(cache_rows) == 0 ]] || die "the cache is not empty before the first drift"
timed 0 drift; COLD=$T_MS
[[ $(cache_rows) -ge 1 ]] || die "the first drift left nothing in dbkit.code_schemas"
CACHE_KB=$(q -c "SELECT sum(octet_length(snapshot::text)) / 1024 FROM dbkit.code_schemas")
log "cold drift: $COLD ms (cache: $(cache_rows) rows, $CACHE_KB kB)"

unc=()
for ((i = 1; i <= SHADOW_RUNS; i++)); do
	q -c "DELETE FROM dbkit.code_schemas" -c "DELETE FROM dbkit.code_drift_results"
	timed 0 drift; unc+=("$T_MS")
	log "uncached drift $i/$SHADOW_RUNS: $T_MS ms"
done

dr=() du=() drc=() duc=()
for ((i = 1; i <= RUNS; i++)); do
	for who in $( ((i % 2)) && echo "drift dump" || echo "dump drift"); do
		if [[ $who == drift ]]; then
			timed 0 drift; dr+=("$T_MS"); drc+=("$T_CPU")
		else
			timed 0 dump; du+=("$T_MS"); duc+=("$T_CPU")
		fi
	done
	log "run $i/$RUNS: drift (cached) ${dr[-1]} ms, pg_dump -s ${du[-1]} ms"
done

target=t$((TABLES / 2))
q -c "ALTER TABLE $target ADD COLUMN bench_extra integer"
timed 4 drift; CH=$T_MS
grep -q "$target.bench_extra" "$TMP/out" || { cat "$TMP/out" >&2; die "drift did not name $target.bench_extra"; }
CH_OUT=$(grep -m1 "bench_extra" "$TMP/out" | sed "s/^ *//; s/  */ /g")
timed 0 dump; CH_DUMP=$T_MS
log "after ADD COLUMN: drift $CH ms (exit 4), pg_dump -s $CH_DUMP ms"
finished=$(date -u)

DR=$(stats "${dr[@]}") DU=$(stats "${du[@]}") UN=$(stats "${unc[@]}")
cat <<MD
### \`dbkit drift --dir\` vs \`pg_dump -s\`, $TABLES tables (run of $STARTED)

- command: \`${BENCH_COMMAND:-bench/engine_drift_bench.sh}\` (TABLES=$TABLES RUNS=$RUNS SHADOW_RUNS=$SHADOW_RUNS), finished $finished
$(machine_lines)
- folder: \`bench/gen_folder.py $TABLES\` (a migration per table: 6 columns, a FK to the previous table, 2 indexes, a
  COMMENT), applied by \`dbkit migrate --dir\` in $(fmt_s "$MIGRATE_MS"); the code's side cached in dbkit.code_schemas: $CACHE_KB kB
- method: wall clock of the whole process, each a fresh connection; cached drift and pg_dump alternate, the order
  swapping every run; median of $RUNS (min–max)

| | median (min–max) | ratio to pg_dump -s |
|---|---|---:|
| \`pg_dump -s -f /dev/null\` | $(fmt_row "$DU") | 1.00 |
| \`dbkit drift --dir\`, cached (no shadow) | $(fmt_row "$DR") | **$(ratio "$(med "$DR")" "$(med "$DU")")** |
| \`dbkit drift --dir\`, cold: the first run, builds the shadow | $(fmt_s "$COLD") | $(ratio "$COLD" "$(med "$DU")") |
| \`dbkit drift --dir\`, cache emptied before each run (shadow every time, $SHADOW_RUNS runs) | $(fmt_row "$UN") | $(ratio "$(med "$UN")" "$(med "$DU")") |
| after \`ALTER TABLE $target ADD COLUMN bench_extra integer\`: \`dbkit drift --dir\` (exit 4) | $(fmt_s "$CH") | $(ratio "$CH" "$(med "$DU")") |
| after the change: \`pg_dump -s\` | $(fmt_s "$CH_DUMP") | $(ratio "$CH_DUMP" "$(med "$DU")") |

dbkit drift (cached) / pg_dump -s: **$(ratio "$(med "$DR")" "$(med "$DU")")**; cold / cached: $(ratio "$COLD" "$(med "$DR")");
after the change drift reports: \`$CH_OUT\`.
MD
