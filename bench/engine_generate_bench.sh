#!/usr/bin/env bash
# Issue 10: `dbkit generate` against the real `drizzle-kit generate` for one change to a
# 200-table drizzle schema.
#
#   PG_BIN=/opt/pgbench/lib/postgresql/15/bin bench/engine_generate_bench.sh
#   TABLES=200 RUNS=5 NPM_DIR=build/bench-npm ...
#
# 1. bench/gen_drizzle_schema.py writes schema.ts (TABLES tables, 8 columns each, 2 enums, a FK
#    to the previous table, 2-3 indexes) and drizzle.config.ts; `drizzle-kit generate` writes
#    the initial folder (0000_init: the whole schema).
# 2. ONE change to schema.ts (table t<TABLES/2> gains a column and an index on it);
#    `drizzle-kit export` of the changed schema is the desired schema SQL for dbkit.
# 3. Timed, alternating (the order swaps every run), each from the same initial folder restored
#    before every run (not timed): `drizzle-kit generate --name change` (node, reads schema.ts and
#    the folder's snapshot) and `dbkit generate change --dir FOLDER --schema desired.sql` (the
#    server builds the folder's schema and the desired one in its rolled-back shadow and diffs
#    them). Both must write the same two statements. The first dbkit run after the cluster
#    starts is reported apart (cold), as is drizzle-kit's first run; then RUNS timed runs each.
# 4. Server breakdown: dbkit_schema_from_folder, dbkit_schema_from_sql and the whole
#    dbkit_diff(...) query, each alone in a fresh psql, RUNS times.
# drizzle-kit 0.31.11 + drizzle-orm 0.45.4 are npm-installed into NPM_DIR (default
# build/bench-npm, reused when present; never the repository's tracked files; no browsers).
# Wall clock of whole processes (node or dbkit start-up, connection, folder reading count).
set -euo pipefail
STARTED=$(date -u)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TABLES=${TABLES:-200}
RUNS=${RUNS:-5}
NPM_DIR=${NPM_DIR:-$here/../build/bench-npm}
KIT_VERSION=0.31.11
ORM_VERSION=0.45.4
# shellcheck source=engine_common.sh
source "$here/engine_common.sh"

# --- drizzle-kit from npm -------------------------------------------------------------------
if [[ ! -f $NPM_DIR/node_modules/drizzle-kit/package.json || ! -f $NPM_DIR/node_modules/drizzle-orm/package.json ]] ||
	[[ $(node -p 'require(process.argv[1]).version' "$NPM_DIR/node_modules/drizzle-kit/package.json") != "$KIT_VERSION" ]]; then
	log "npm install drizzle-kit@$KIT_VERSION drizzle-orm@$ORM_VERSION into $NPM_DIR"
	mkdir -p "$NPM_DIR"
	printf '{"private": true, "dependencies": {"drizzle-kit": "%s", "drizzle-orm": "%s"}}\n' "$KIT_VERSION" "$ORM_VERSION" >"$NPM_DIR/package.json"
	(cd "$NPM_DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2) || die "npm install failed"
fi
NPM_DIR=$(cd "$NPM_DIR" && pwd)
KIT="$NPM_DIR/node_modules/drizzle-kit/bin.cjs"
KIT_V=$(node -p 'require(process.argv[1]).version' "$NPM_DIR/node_modules/drizzle-kit/package.json")
ORM_V=$(node -p 'require(process.argv[1]).version' "$NPM_DIR/node_modules/drizzle-orm/package.json")

# --- the project ------------------------------------------------------------------------------
P=$TMP/proj
python3 "$here/gen_drizzle_schema.py" "$TABLES" "$P"
ln -s "$NPM_DIR/node_modules" "$P/node_modules"
log "drizzle-kit generate: the initial folder ($TABLES tables)"
(cd "$P" && node "$KIT" generate --name init >"$TMP/init.log" 2>&1) || { cat "$TMP/init.log" >&2; die "drizzle-kit generate (init)"; }
cp -a "$P/drizzle" "$TMP/base"
INIT_STMTS=$(grep -c 'statement-breakpoint' "$P/drizzle/0000_init.sql" || true)
INIT_KB=$(( $(wc -c <"$P/drizzle/0000_init.sql") / 1024 ))
python3 "$here/gen_drizzle_schema.py" "$TABLES" "$P" --changed
(cd "$P" && node "$KIT" export >"$TMP/desired.sql" 2>"$TMP/export.err") || { cat "$TMP/export.err" >&2; die "drizzle-kit export"; }
grep -q '"note" text' "$TMP/desired.sql" || die "drizzle-kit export has no note column"
chmod 644 "$TMP/desired.sql"
target=t$((TABLES / 2))

restore() { rm -rf "$P/drizzle"; cp -a "$TMP/base" "$P/drizzle"; }
kit_run() { (cd "$P" && node "$KIT" generate --name change); }
dbkit_run() { "$DBKIT" generate change --dir "$P/drizzle" --schema "$TMP/desired.sql"; }
# what the last run wrote (every migration file the base folder does not have): its statements,
# one a line, normalised (comments, breakpoints, quotes, schema, USING btree, CONCURRENTLY)
new_files() { comm -13 <(cd "$TMP/base" && ls ./*.sql | sort) <(cd "$P/drizzle" && ls ./*.sql | sort); }
written_raw() {
	local f
	for f in $(new_files); do grep -v '^--' "$P/drizzle/$f"; echo; done | sed 's/--> statement-breakpoint//g' |
		tr -s ' \n\t' ' ' | tr ';' '\n' | sed 's/^ *//; s/ *$//' | grep -v '^$' || true
}
written() { written_raw | sed 's/"//g; s/ USING btree//; s/ CONCURRENTLY//; s/public\.//g' | sort; }

log "starting a private cluster"
pg_cluster_start
PG_VERSION=$(q -c 'SHOW server_version')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
q -c "CREATE DATABASE gen" && export PGDATABASE=gen
q -c "CREATE EXTENSION dbkit"
timed 0 "$DBKIT" migrate --dir "$TMP/base"
MIGRATE_MS=$T_MS
log "the initial folder applied by dbkit migrate in $(fmt_s "$T_MS")"

# cold: the first dbkit generate in this cluster; drizzle-kit's first run too
restore; timed 0 kit_run; KIT_FIRST=$T_MS; KIT_SQL=$(written); KIT_RAW=$(written_raw); KIT_FILES=$(new_files | paste -sd" ")
restore; timed 0 dbkit_run; COLD=$T_MS; COLD_CPU=$T_CPU; DBKIT_SQL=$(written); DBKIT_RAW=$(written_raw); DBKIT_FILES=$(new_files | paste -sd" ")
log "first runs: drizzle-kit $KIT_FIRST ms, dbkit (cold) $COLD ms"
log "drizzle-kit wrote: $(echo "$KIT_SQL" | paste -sd'|')"
log "dbkit wrote:       $(echo "$DBKIT_SQL" | paste -sd'|')"
[[ $KIT_SQL == "$DBKIT_SQL" ]] || log "NOTE: the two migrations differ (normalised)"
[[ $(echo "$DBKIT_SQL" | wc -l) == 2 ]] || die "dbkit generate wrote $(echo "$DBKIT_SQL" | wc -l) statements, expected 2"

kit=() dbk=() kitc=() dbkc=()
for ((i = 1; i <= RUNS; i++)); do
	for who in $( ((i % 2)) && echo "kit dbkit" || echo "dbkit kit"); do
		restore
		if [[ $who == kit ]]; then
			timed 0 kit_run; kit+=("$T_MS"); kitc+=("$T_CPU")
		else
			timed 0 dbkit_run; dbk+=("$T_MS"); dbkc+=("$T_CPU")
		fi
		[[ $(written | wc -l) == 2 ]] || die "$who run $i wrote $(written | wc -l) statements"
	done
	log "run $i/$RUNS: drizzle-kit ${kit[-1]} ms, dbkit ${dbk[-1]} ms"
done
restore

# server breakdown, each in a fresh psql (a cold backend, like the CLI)
python3 - "$TMP/base" "$TMP/payload.json" <<'PY'
import json, os, sys
d, out = sys.argv[1], sys.argv[2]
files = {}
for root, _, names in os.walk(d):
    for n in names:
        p = os.path.join(root, n)
        rel = os.path.relpath(p, d)
        if rel.endswith(".sql"):
            files[rel] = open(p, encoding="utf-8").read()
json.dump({"journal": open(os.path.join(d, "meta", "_journal.json"), encoding="utf-8").read(), "files": files},
          open(out, "w", encoding="utf-8"))
PY
chmod 644 "$TMP/payload.json"
PAY="pg_read_file('$TMP/payload.json')::jsonb"
DES="pg_read_file('$TMP/desired.sql')"
declare -A B
parts=(folder sql diff)
declare -A BSQL=(
	[folder]="SELECT octet_length(dbkit_schema_from_folder($PAY, '{}')::text)"
	[sql]="SELECT octet_length(dbkit_schema_from_sql($DES, '{}')::text)"
	[diff]="SELECT count(*) FROM dbkit_diff(dbkit_schema_from_folder($PAY, '{}'), dbkit_schema_from_sql($DES, '{}'), '{}')"
)
for ((i = 1; i <= RUNS; i++)); do
	for k in "${parts[@]}"; do
		timed 0 q -c "${BSQL[$k]}"
		B[$k]+=" $T_MS"
		[[ $k != diff || $(cat "$TMP/out") == 2 ]] || die "dbkit_diff returned $(cat "$TMP/out") rows, expected 2"
	done
	# the floor: the desired schema's SQL run by psql in one transaction into an empty database
	q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS floor" -c "CREATE DATABASE floor"
	timed 0 q -1 -d floor -f "$TMP/desired.sql"
	B[floor]+=" $T_MS"
done
finished=$(date -u)

# --- report -----------------------------------------------------------------------------------
KS=$(stats "${kit[@]}") DS=$(stats "${dbk[@]}")
KC=$(stats "${kitc[@]}") DC=$(stats "${dbkc[@]}")
cat <<MD
### \`dbkit generate\` vs \`drizzle-kit generate\`, $TABLES tables, one change (run of $STARTED)

- command: \`${BENCH_COMMAND:-bench/engine_generate_bench.sh}\` (TABLES=$TABLES RUNS=$RUNS), finished $finished
$(machine_lines)
- drizzle-kit $KIT_V, drizzle-orm $ORM_V (npm, in \`$NPM_DIR\`), node $(node --version)
- schema: $TABLES tables (8 columns, 2 enums, a FK each to the previous table, 2 indexes + a unique one on every tenth);
  the initial migration 0000_init.sql is $INIT_KB kB, $((INIT_STMTS + 1)) statements; applied with \`dbkit migrate\` in $(fmt_s "$MIGRATE_MS")
- the change: \`$target\` gains \`note text\` and \`index("${target}_note_idx").on(t.note)\`; the desired schema for dbkit
  is \`drizzle-kit export\` of the changed schema.ts ($(wc -l <"$TMP/desired.sql") lines)
- drizzle-kit writes ${KIT_FILES}: $(echo "$KIT_RAW" | sed 's/.*/`&`/' | paste -sd'|' | sed 's/|/; /g')
- dbkit writes ${DBKIT_FILES}: $(echo "$DBKIT_RAW" | sed 's/.*/`&`/' | paste -sd'|' | sed 's/|/; /g')
  ($([[ $KIT_SQL == "$DBKIT_SQL" ]] && echo "the same two statements once quoting, schema and CONCURRENTLY are set aside" || echo "NOT the same statements"))
- method: wall clock of the whole process; the initial folder restored before each run (not timed); drizzle-kit and
  dbkit alternate, the order swapping every run; median of $RUNS (min–max); CPU = user+sys of the client process
  (node, or dbkit; the server's work is not in dbkit's CPU)

| | median (min–max) | client CPU (median) | ratio to drizzle-kit |
|---|---|---:|---:|
| \`drizzle-kit generate\` | $(fmt_row "$KS") | $(fmt_s "$(med "$KC")") | 1.00 |
| \`dbkit generate\` (warm) | $(fmt_row "$DS") | $(fmt_s "$(med "$DC")") | **$(ratio "$(med "$DS")" "$(med "$KS")")** |
| \`dbkit generate\`, cold (first run after the server started) | $(fmt_s "$COLD") | $(fmt_s "$COLD_CPU") | $(ratio "$COLD" "$(med "$KS")") |
| \`drizzle-kit generate\`, first run | $(fmt_s "$KIT_FIRST") | | $(ratio "$KIT_FIRST" "$(med "$KS")") |

dbkit/drizzle-kit (warm medians): **$(ratio "$(med "$DS")" "$(med "$KS")")**; dbkit cold/warm: $(ratio "$COLD" "$(med "$DS")").

Server side, each query alone in a fresh psql (median of $RUNS, wall clock of psql):

| query | median (min–max) |
|---|---|
| \`dbkit_schema_from_folder(folder)\` (the folder's schema, built in the shadow) | $(fmt_row "$(stats ${B[folder]})") |
| \`dbkit_schema_from_sql(desired)\` (the desired schema, built in the shadow) | $(fmt_row "$(stats ${B[sql]})") |
| \`dbkit_diff(from_folder, from_sql)\` (what \`dbkit generate\` runs) | $(fmt_row "$(stats ${B[diff]})") |
| floor: \`psql -1 -f desired.sql\` into an empty database (the same DDL, no shadow, no catalog read) | $(fmt_row "$(stats ${B[floor]})") |
MD
