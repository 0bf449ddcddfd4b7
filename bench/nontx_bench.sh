#!/usr/bin/env bash
# Issue 14 item 2: a folder of non-transactional migrations (CREATE INDEX CONCURRENTLY) applied by
# `dbkit migrate` against psql running the same files in autocommit, and where dbkit's time goes.
#
#   PG_BIN=/opt/pgme/lib/postgresql/15/bin bench/nontx_bench.sh
#   FILES=31 PER_FILE=3 ROWS=5000 RUNS=5 ...
#
# The folder: 0000 creates FILES+1 tables of ROWS rows (transactional); 0001..FILES each build
# PER_FILE indexes CONCURRENTLY (one file builds 2*PER_FILE: 96 builds with the defaults, as the
# real project issue 14 measured). Every run starts from a copy of one template database where 0000
# is applied. Runs alternate dbkit / psql (order swapping every run):
#   dbkit  `dbkit migrate --dir F` (fresh process, fresh connection)
#   psql   `psql -X -v ON_ERROR_STOP=1 -f 0001.sql -f 0002.sql ...` in autocommit, one session
# Then one more dbkit run with log_min_duration_statement=0: the server time of each kind of
# query dbkit sends, from the server's log.
set -euo pipefail
# shellcheck disable=SC2034 # PG_VERSION, LOAD_BEFORE: read by machine_lines in engine_common.sh
STARTED=$(date -u)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILES=${FILES:-31}
PER_FILE=${PER_FILE:-3}
ROWS=${ROWS:-5000}
RUNS=${RUNS:-5}
# shellcheck source=engine_common.sh
source "$here/engine_common.sh"

F=$TMP/folder
python3 - "$F" "$FILES" "$PER_FILE" "$ROWS" <<'PY'
import json, os, sys
d, files, per, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.makedirs(d + "/meta")
tags = []
def write(tag, stmts):
    open(f"{d}/{tag}.sql", "w").write(";\n--> statement-breakpoint\n".join(stmts) + ";\n")
    tags.append(tag)
base = []
for t in range(1, files + 2):
    base.append(f'CREATE TABLE "t{t}" ("id" integer PRIMARY KEY, "a" integer, "b" integer, "c" text, "d" integer, "e" integer, "f" integer)')
    base.append(f'INSERT INTO "t{t}" SELECT g, g % 97, g % 13, md5(g::text), g % 7, g % 101, g % 1009 FROM generate_series(1, {rows}) g')
write("0000_tables", base)
cols = ["a", "b", "c", "d", "e", "f"]
for k in range(1, files + 1):
    tabs = [k] if k < files else [k, k + 1]
    stmts = [f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "t{t}_{c}_idx" ON "t{t}" USING btree ("{c}")'
             for t in tabs for c in cols[:per]]
    write(f"{k:04d}_indexes_{k}", stmts)
entries = [{"idx": i, "version": "7", "when": 1796000000000 + i, "tag": t, "breakpoints": True} for i, t in enumerate(tags)]
json.dump({"version": "7", "dialect": "postgresql", "entries": entries}, open(d + "/meta/_journal.json", "w"), indent=2)
PY
BUILDS=$(grep -c 'CONCURRENTLY' "$F"/0[0-9][0-9][0-9]_indexes_*.sql | awk -F: '{s += $2} END {print s}')

log "starting a private cluster"
pg_cluster_start
PG_VERSION=$(q -c 'SHOW server_version')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
q -c "CREATE DATABASE tmpl"
(
	export PGDATABASE=tmpl
	q -c "CREATE EXTENSION dbkit"
	mkdir -p "$TMP/base/meta"
	cp "$F/0000_tables.sql" "$TMP/base/"
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); j['entries']=j['entries'][:1]; json.dump(j, open(sys.argv[2],'w'))" \
		"$F/meta/_journal.json" "$TMP/base/meta/_journal.json"
	"$DBKIT" migrate --dir "$TMP/base" >/dev/null
	q -c "VACUUM ANALYZE" -c "CHECKPOINT"
)
files=()
for f in "$F"/0[0-9][0-9][0-9]_indexes_*.sql; do files+=(-f "$f"); done

n=0
fresh() { n=$((n + 1)); q -c "CREATE DATABASE r$n TEMPLATE tmpl"; export PGDATABASE=r$n; }
run_dbkit() { fresh; timed 0 "$DBKIT" migrate --dir "$F"; DB_MS+=("$T_MS"); check_built dbkit; }
run_psql() { fresh; timed 0 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "${files[@]}"; PS_MS+=("$T_MS"); check_built psql; }
check_built() {
	local got
	got=$(q -c "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 't%\_idx' AND i.indisvalid")
	[[ $got == "$BUILDS" ]] || die "$1: $got valid indexes, expected $BUILDS"
}
DB_MS=() PS_MS=()
for ((i = 1; i <= RUNS; i++)); do
	if ((i % 2)); then run_dbkit; run_psql; else run_psql; run_dbkit; fi
	log "run $i/$RUNS: dbkit ${DB_MS[-1]} ms, psql ${PS_MS[-1]} ms"
done
DB=$(stats "${DB_MS[@]}")
PS=$(stats "${PS_MS[@]}")

# the profile: every query dbkit sends, with its server duration
fresh
LOG_FROM=$(stat -c %s "$PG_CLUSTER_DIR/server.log")
PGOPTIONS="-c log_min_duration_statement=0" timed 0 "$DBKIT" migrate --dir "$F"
PROFILE_WALL=$T_MS
PROFILE=$(tail -c +"$((LOG_FROM + 1))" "$PG_CLUSTER_DIR/server.log" | python3 -c '
import re, sys, collections
tot = collections.defaultdict(float); cnt = collections.Counter()
for line in sys.stdin:
    m = re.search(r"duration: ([0-9.]+) ms\s+(parse|bind|execute|statement)[^:]*: (.*)", line)
    if not m:
        continue
    ms, phase, sql = float(m.group(1)), m.group(2), m.group(3)
    k = re.search(r"(dbkit_[a-z_]+|set_config|CREATE INDEX|BEGIN|COMMIT|pg_advisory|dbkit\.[a-z_]+)", sql)
    key = (k.group(1) if k else sql[:40]) + ("" if phase in ("execute", "statement") else " (" + phase + ")")
    tot[key] += ms; cnt[key] += 1
for k, v in sorted(tot.items(), key=lambda kv: -kv[1]):
    print(f"| `{k}` | {cnt[k]} | {v:.1f} ms |")
print(f"| **all queries** | {sum(cnt.values())} | {sum(tot.values()):.1f} ms |")
')

cat <<OUT
### Non-transactional migrations: dbkit migrate against psql in autocommit (issue 14 item 2)
- command: \`PG_BIN=$PG_BIN FILES=$FILES PER_FILE=$PER_FILE ROWS=$ROWS RUNS=$RUNS bench/nontx_bench.sh\`; started $STARTED
$(machine_lines)
- folder: 0000 (tables, applied in the template), then $FILES non-transactional migrations holding $BUILDS \`CREATE INDEX CONCURRENTLY\` on tables of $ROWS rows

| | median (min–max) of $RUNS | ratio to psql |
|---|---|---|
| psql, autocommit, one session | $(fmt_row "$PS") | 1.00 |
| dbkit migrate --dir | $(fmt_row "$DB") | $(ratio "$(med "$DB")" "$(med "$PS")") |

Server time per kind of query dbkit sent (one more run, \`log_min_duration_statement=0\`, wall $(fmt_s "$PROFILE_WALL")):

| query | count | server time |
|---|---|---|
$PROFILE
OUT
