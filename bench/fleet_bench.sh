#!/usr/bin/env bash
# Issue 14 item 4: `dbkit migrate --targets F --parallel N` against a sequential shell loop of
# `dbkit migrate --url ...`, one per database, in the same run. N_DBS databases (default 200) on one
# private cluster, each a copy of a template that has the extension, and a folder of N_MIGRATIONS
# (default 20) small migrations (gen_folder.py --small). Each method gets its own fresh set of
# databases; every database is checked afterwards (N_MIGRATIONS history rows). Prints a markdown
# report on stdout (times, speed-ups, the fleet report's totals line), progress on stderr.
#
#   bench/fleet_bench.sh                          # loop, then fleet at PARALLELS="1 4 8"; a few minutes on 2 cores
#   N_DBS=50 PARALLELS=8 bench/fleet_bench.sh     # quick
#
# Needs the extension installed where the cluster's server finds it (make install, or PG_BIN of a
# private copy that has it) and the client at $DBKIT (default build/client/dbkit).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DBKIT=${DBKIT:-$here/../build/client/dbkit}
N_DBS=${N_DBS:-200}
N_MIGRATIONS=${N_MIGRATIONS:-20}
PARALLELS=${PARALLELS:-"1 4 8"}
# Durability off: commit cost is the same for both methods and only adds noise (as apply_bench.sh).
export PG_CLUSTER_OPTS=${PG_CLUSTER_OPTS:-"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"}
[[ -x $DBKIT ]] || { echo "no dbkit client at $DBKIT" >&2; exit 1; }
DBKIT=$(cd "$(dirname "$DBKIT")" && pwd)/$(basename "$DBKIT")

# shellcheck source=../scripts/pgcluster.sh
source "$here/../scripts/pgcluster.sh"
TMP=$(mktemp -d /tmp/fleet_bench.XXXXXX)
chmod 755 "$TMP"
trap 'pg_cluster_stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# A private copy of the client: a rebuild of build/ during the run cannot change it.
cp "$DBKIT" "$TMP/dbkit"
DBKIT_ID="$(sha256sum "$DBKIT" | cut -c1-12), built $(date -u -r "$DBKIT" '+%Y-%m-%d %H:%M:%S UTC')"
DBKIT=$TMP/dbkit

log() { printf '%s %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now_ns() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
psql_q() { psql -X -qAt -v ON_ERROR_STOP=1 "$@"; }

# A fresh set of N_DBS databases named PREFIX_NNN, copies of the template; the targets file.
make_set() { # prefix
	local i name
	: >"$TMP/$1.targets"
	for i in $(seq -f '%03g' 1 "$N_DBS"); do
		name=${1}_$i
		psql_q -d postgres -c "CREATE DATABASE $name TEMPLATE fleet_template" >/dev/null
		echo "dbname=$name" >>"$TMP/$1.targets"
	done
}
drop_set() { # prefix
	local i
	for i in $(seq -f '%03g' 1 "$N_DBS"); do psql_q -d postgres -c "DROP DATABASE ${1}_$i" >/dev/null; done
}
# Every database of the set has the folder applied.
check_set() { # prefix
	local i n
	for i in $(seq -f '%03g' 1 "$N_DBS"); do
		n=$(psql_q -d "${1}_$i" -c "SELECT count(*) FROM dbkit.migrations")
		[[ $n == "$N_MIGRATIONS" ]] || die "${1}_$i has $n migrations, not $N_MIGRATIONS"
	done
}

log "starting a private cluster"
pg_cluster_start
PG_VERSION=$(psql_q -d postgres -c "SHOW server_version")
python3 "$here/gen_folder.py" "$N_MIGRATIONS" "$TMP/folder" --small
psql_q -d postgres -c "CREATE DATABASE fleet_template" >/dev/null
psql_q -d fleet_template -c "CREATE EXTENSION dbkit" >/dev/null
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u)

log "loop: $N_DBS x dbkit migrate, one after the other"
make_set loop
t0=$(now_ns)
while read -r target; do
	"$DBKIT" migrate --dir "$TMP/folder" --url "$target" >/dev/null 2>"$TMP/loop.err" || die "loop: $target: $(cat "$TMP/loop.err")"
done <"$TMP/loop.targets"
LOOP_S=$(secs_since "$t0")
check_set loop
drop_set loop
log "loop: $LOOP_S s"

declare -A FLEET_S FLEET_TOTALS
for p in $PARALLELS; do
	log "fleet: dbkit migrate --targets ($N_DBS) --parallel $p"
	make_set "fleet$p"
	t0=$(now_ns)
	CI=true "$DBKIT" migrate --dir "$TMP/folder" --targets "$TMP/fleet$p.targets" --parallel "$p" \
		>"$TMP/fleet$p.out" 2>"$TMP/fleet$p.err" || die "fleet --parallel $p: exit $?: $(tail -5 "$TMP/fleet$p.out")"
	FLEET_S[$p]=$(secs_since "$t0")
	FLEET_TOTALS[$p]=$(tail -1 "$TMP/fleet$p.out")
	check_set "fleet$p"
	drop_set "fleet$p"
	log "fleet --parallel $p: ${FLEET_S[$p]} s"
done

cat <<MD
### Run of $STARTED

- command: \`bench/fleet_bench.sh\` (N_DBS=$N_DBS N_MIGRATIONS=$N_MIGRATIONS PARALLELS="$PARALLELS"), finished $(date -u)
- machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, shared (load average before: $LOAD_BEFORE)
- PostgreSQL $PG_VERSION, private cluster on a Unix socket, options \`$PG_CLUSTER_OPTS\`
- client $DBKIT_ID; folder: \`gen_folder.py $N_MIGRATIONS --small\` (one small table per migration)
- each method on its own $N_DBS fresh databases (copies of a template with the extension); afterwards every
  database is checked to hold $N_MIGRATIONS history rows; wall clock of the whole loop or run

| method | wall clock | speed-up over the loop |
|---|---:|---:|
| shell loop: \`dbkit migrate --url dbname=...\` per database | $LOOP_S s | 1.00x |
MD
for p in $PARALLELS; do
	echo "| \`dbkit migrate --targets F --parallel $p\` | ${FLEET_S[$p]} s | **$(ratio "$LOOP_S" "${FLEET_S[$p]}")x** |"
done
echo
echo "The fleet report's totals line:"
echo
for p in $PARALLELS; do echo "- \`${FLEET_TOTALS[$p]}\`"; done
