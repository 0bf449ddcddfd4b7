#!/usr/bin/env bash
# Issue 14 item 1: deploy and drift cost against the schema's size.
#
#   PG_BIN=/opt/pgme/lib/postgresql/15/bin bench/scale_bench.sh
#   SIZES="2000 10000" RUNS=5 ...
#
# For each size N: N tables `tK (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'x', ref int,
# created timestamptz DEFAULT now())` with one more index each, in a template database; `dk` (a
# copy with dbkit and a full reference) and `ps` (a plain copy) are made from it. Then, alternating
# the order every run:
#   deploy   one more migration `ALTER TABLE tK ADD COLUMN extra_K int`: `dbkit migrate --dir F`
#            on dk against `psql -f` of the same file on ps (fresh process and connection each);
#            after each deploy, nothing is timed until the background worker has taken its objects
#            into the reference (settle_ms, reported: the deploy no longer waits for that re-read);
#            and one more while the change below is pending (drift carried by the deploy)
#   poll     `dbkit drift` with nothing changed (fresh process), and its server time: the query's
#            own clock (clock_timestamp() - statement_timestamp()) in a fresh connection (cold:
#            the first dbkit call of a backend) and in the same connection again (warm)
#   change   one column added by hand, then `dbkit drift` (exit 4) against `pg_dump -s` of the same
#            database; `dbkit accept-drift` afterwards, not timed
# Baseline in the same run: `psql -c 'SELECT 1'` (a fresh process and connection).
set -euo pipefail
STARTED=$(date -u)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SIZES=${SIZES:-"2000 10000"}
RUNS=${RUNS:-5}
# shellcheck source=engine_common.sh
source "$here/engine_common.sh"

log "starting a private cluster"
pg_cluster_start
PG_VERSION=$(q -c 'SHOW server_version')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# server_ms DB SQL: the server's own clock around SQL (a subquery), in a fresh connection
server_ms() {
	q -d "$1" -c "SELECT round(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000, 2)
	              FROM (SELECT count(*) FROM ($2) s) x"
}
# warm_ms DB SQL: the same, run twice in one connection: the second
warm_ms() {
	q -d "$1" -c "SELECT count(*) FROM ($2) s" \
		-c "SELECT round(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000, 2)
		    FROM (SELECT count(*) FROM ($2) s) x" | tail -n1
}

step() {  # step DIR K: the migration that adds extra_K to tK, appended to a journal folder
	local d=$1 k=$2 tag
	tag=$(printf '%04d_step_%d' "$((k - 1))" "$k")
	printf 'ALTER TABLE "t%d" ADD COLUMN "extra_%d" integer;\n' "$k" "$k" >"$d/$tag.sql"
	python3 - "$d/meta/_journal.json" "$tag" "$((k - 1))" <<'PY'
import json, os, sys
p, tag, idx = sys.argv[1], sys.argv[2], int(sys.argv[3])
j = json.load(open(p)) if os.path.exists(p) else {"version": "7", "dialect": "postgresql", "entries": []}
j["entries"].append({"idx": idx, "version": "7", "when": 1796000000000 + idx, "tag": tag, "breakpoints": True})
json.dump(j, open(p, "w"), indent=2)
PY
	echo "$d/$tag.sql"
}

# settle_ms DB: waits until the background worker took the last deploy's objects into the
# reference (no deferred row, no worker left), so that nothing timed next runs beside it;
# prints how long after the client's exit that was, a psql start included (an upper bound)
settle_ms() {
	local t0 t1
	t0=$(now_ns)
	q -d "$1" -c "DO \$\$ BEGIN FOR i IN 1..6000 LOOP
		EXIT WHEN NOT EXISTS (SELECT 1 FROM dbkit.dirty_objects WHERE deferred)
		      AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'dbkit reference re-read');
		PERFORM pg_sleep(0.002); END LOOP; END \$\$"
	t1=$(now_ns)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}

REPORT=""
for N in $SIZES; do
	log "N=$N: generating the schema"
	q -c "CREATE DATABASE tpl$N"
	make_tables "tpl$N" "$N"
	q -c "CREATE DATABASE dk$N TEMPLATE tpl$N" -c "CREATE DATABASE ps$N TEMPLATE tpl$N"
	q -d "dk$N" -c "CREATE EXTENSION dbkit" -c "SELECT count(*) FROM dbkit_accept_drift('bench base')" >/dev/null
	q -d "dk$N" -c "VACUUM ANALYZE"
	q -d "ps$N" -c "VACUUM ANALYZE"
	F=$TMP/folder$N
	mkdir -p "$F/meta"
	export PGDATABASE=dk$N
	DEP=() SETTLE=() DEP_DRIFT=() PSQL=() BASE=() POLL=() POLL_COLD=() POLL_WARM=() CHG=() CHG_SRV=() DUMP=()
	for ((r = 0; r <= RUNS; r++)); do  # run 0 warms up, not counted
		file=$(step "$F" "$((2 * r + 1))")
		dep() {
			timed 0 "$DBKIT" migrate --dir "$F" --url "dbname=dk$N"; ((r)) && DEP+=("$T_MS")
			w=$(settle_ms "dk$N"); ((r)) && SETTLE+=("$w"); true
		}
		run_ps() { timed 0 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "ps$N" -f "$file"; ((r)) && PSQL+=("$T_MS"); true; }
		if ((r % 2)); then dep; run_ps; else run_ps; dep; fi
		timed 0 "$PG_BIN/psql" -X -qAt -d "dk$N" -c 'SELECT 1'; ((r)) && BASE+=("$T_MS")
		timed 0 "$DBKIT" drift --url "dbname=dk$N"; ((r)) && POLL+=("$T_MS")
		pc=$(server_ms "dk$N" "SELECT * FROM dbkit_drift()"); ((r)) && POLL_COLD+=("$pc")
		w=$(warm_ms "dk$N" "SELECT * FROM dbkit_drift()"); ((r)) && POLL_WARM+=("$w")
		# one change by hand
		q -d "dk$N" -c "ALTER TABLE t$((N / 2 + r)) ADD COLUMN drift_$r integer"
		chg() {
			timed 4 "$DBKIT" drift --url "dbname=dk$N"
			grep -q "drift_$r" "$TMP/out" || die "dbkit drift did not name drift_$r: $(cat "$TMP/out")"
			((r)) && CHG+=("$T_MS")
			c=$(server_ms "dk$N" "SELECT * FROM dbkit_drift()"); ((r)) && CHG_SRV+=("$c")
			true
		}
		dump() { timed 0 "$PG_BIN/pg_dump" -s -d "dk$N" -f /dev/null; ((r)) && DUMP+=("$T_MS"); true; }
		if ((r % 2)); then chg; dump; else dump; chg; fi
		# a deploy while that change is pending (not accepted): it carries the drift
		step "$F" "$((2 * r + 2))" >/dev/null
		timed 0 "$DBKIT" migrate --dir "$F" --url "dbname=dk$N"; ((r)) && DEP_DRIFT+=("$T_MS")
		settle_ms "dk$N" >/dev/null
		grep -q "drift_$r" <("$DBKIT" drift --url "dbname=dk$N" 2>&1) || die "the drift pending before a deploy is no longer reported"
		"$DBKIT" accept-drift --reason "bench run $r" --url "dbname=dk$N" >/dev/null
		((r)) && log "N=$N run $r/$RUNS: deploy ${DEP[-1]} ms, psql ${PSQL[-1]} ms, poll ${POLL[-1]} ms (server cold $pc), change ${CHG[-1]} ms, pg_dump ${DUMP[-1]} ms"
	done
	unset PGDATABASE
	S_DEP=$(stats "${DEP[@]}") S_SET=$(stats "${SETTLE[@]}") S_DEPD=$(stats "${DEP_DRIFT[@]}") S_PS=$(stats "${PSQL[@]}") S_BASE=$(stats "${BASE[@]}") S_POLL=$(stats "${POLL[@]}")
	S_PC=$(stats "${POLL_COLD[@]}") S_PW=$(stats "${POLL_WARM[@]}") S_CHG=$(stats "${CHG[@]}")
	S_CS=$(stats "${CHG_SRV[@]}") S_DUMP=$(stats "${DUMP[@]}")
	REPORT+="
#### $N tables ($(q -d "dk$N" -c "SELECT count(*) FROM pg_class") pg_class rows, $(q -d "dk$N" -c "SELECT count(*) FROM dbkit.reference_objects") reference entries)

| what | median (min–max) of $RUNS | ratio |
|---|---|---|
| psql -f (the same one-statement migration), baseline of the deploy | $(fmt_row "$S_PS") | 1.00 |
| **dbkit migrate --dir**, one migration | $(fmt_row "$S_DEP") | $(ratio "$(med "$S_DEP")" "$(med "$S_PS")") (psql + $(awk -v a="$(med "$S_DEP")" -v b="$(med "$S_PS")" 'BEGIN { printf "%.0f", a - b }') ms) |
| after it, until its objects are in the reference (the background worker; a psql start included) | $(fmt_row "$S_SET") | |
| dbkit migrate --dir, one migration, with a column added by hand pending (drift carried) | $(fmt_row "$S_DEPD") | $(ratio "$(med "$S_DEPD")" "$(med "$S_PS")") (psql + $(awk -v a="$(med "$S_DEPD")" -v b="$(med "$S_PS")" 'BEGIN { printf "%.0f", a - b }') ms) |
| psql -c 'SELECT 1', baseline of a poll | $(fmt_row "$S_BASE") | 1.00 |
| dbkit drift, nothing changed (whole process) | $(fmt_row "$S_POLL") | $(ratio "$(med "$S_POLL")" "$(med "$S_BASE")") |
| dbkit_drift() server time, nothing changed, fresh connection | $S_PC ms (median min max) | |
| **dbkit_drift() server time, nothing changed, warm connection** | $S_PW ms (median min max) | |
| pg_dump -s, baseline of a drift with a change | $(fmt_row "$S_DUMP") | 1.00 |
| **dbkit drift, one column added by hand** (whole process) | $(fmt_row "$S_CHG") | $(ratio "$(med "$S_CHG")" "$(med "$S_DUMP")") |
| dbkit_drift() server time, one change, fresh connection | $S_CS ms (median min max) | |
"
done

cat <<OUT
### Deploy and drift against the schema's size (issue 14 item 1)
- command: \`PG_BIN=$PG_BIN SIZES="$SIZES" RUNS=$RUNS bench/scale_bench.sh\`; started $STARTED
$(machine_lines)
$REPORT
OUT
