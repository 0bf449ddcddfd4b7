#!/usr/bin/env bash
# Issue 14 item 3: where the time of `dbkit status --dir` and `dbkit check --dir` goes at N
# migrations when nothing changed, each part against a baseline run in the same session.
#
#   PG_BIN=/opt/pgsnap/lib/postgresql/15/bin bench/status_bench.sh
#   N=2000 RUNS=5 ...                        # a quick run
#
# bench/gen_folder.py N --small (one tiny table per migration), applied with `dbkit migrate
# --dir`; then RUNS rounds, the order of the methods rotating each round:
#   status    `dbkit status --dir F` (whole process), warm: file hashes from the hash cache
#             (XDG_CACHE_HOME in the bench's temp dir), the answer from dbkit.status_results
#   status_nocache  the same with DBKIT_NO_CACHE=1: every file read and sent, the answer
#             computed (the path before the caches, and a miss's cost)
#   check     `dbkit check --dir F` (whole process)
#   baseline  `dbkit status` without a folder (connect, find the extension, the newest 20 rows
#             of the history): what any connected command costs here
#   select1   `psql -X -c 'SELECT 1'`
#   read      `find F -name '*.sql' -exec cat {} +`: opening and reading every file, the floor
#             of any client that ships the files' text
#   stat      `find F -name '*.sql' -newer P` (P newer than every file: no output): stat of
#             every file, the floor of a client-side cache keyed by inode, size, mtime and ctime
#   server    dbkit._folder_status(folder) (what dbkit_status(folder) calls) in a fresh psql
#             connection, \timing of the call alone; the folder jsonb is built beforehand, in
#             that session, from the same payload the client sends (journal + every file)
#   server+json  the same call with the payload's text cast to jsonb in it (what the client's
#             query costs the server: parsing the argument, then the call)
#   validate  dbkit_validate(folder) the same way (what `dbkit check` calls)
#   cached    dbkit_status_cached(digest) alone (\timing in psql): the fingerprint of the
#             history, progress and drizzle's table, and the stored answer read back
#   summary   dbkit_status_cached_summary(digest) alone: the same key, and only the rows the
#             text view prints (stored with the answer) read back
# Wall clock; every run is a fresh process and a fresh connection (a cold backend).
set -euo pipefail
STARTED=$(date -u)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=${N:-10000}
RUNS=${RUNS:-7}
# shellcheck source=engine_common.sh
source "$here/engine_common.sh"

F=$TMP/folder
python3 "$here/gen_folder.py" "$N" "$F" --small
# the payload as the client builds it (client/folder_reader.cpp), for the server-only timings
python3 - "$F" "$TMP/payload.json" <<'EOF'
import json, os, sys
d, out = sys.argv[1], sys.argv[2]
files = {n: open(os.path.join(d, n), encoding="utf-8").read() for n in os.listdir(d) if n.endswith(".sql")}
with open(out, "w", encoding="utf-8") as f:
    json.dump({"journal": open(os.path.join(d, "meta/_journal.json"), encoding="utf-8").read(), "files": files}, f)
EOF
chmod -R a+rX "$TMP"
log "starting a private cluster"
pg_cluster_start
# shellcheck disable=SC2034 # read by machine_lines in engine_common.sh
PG_VERSION=$(q -c 'SHOW server_version')
# shellcheck disable=SC2034
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
q -c "CREATE DATABASE st" && export PGDATABASE=st
q -c "CREATE EXTENSION dbkit"
export XDG_CACHE_HOME=$TMP/xdg-cache  # the hash cache of this run only
log "dbkit migrate --dir ($N migrations)"
timed 0 "$DBKIT" migrate --dir "$F"
log "applied in $(fmt_s "$T_MS")"
q -c "VACUUM ANALYZE" -c "CHECKPOINT"
[[ $(q -c "SELECT count(*) FROM dbkit.migrations") == "$N" ]] || die "the history is not $N rows"

# server_call FN [json]: T_MS = the call alone (with json: and the cast of the payload's text to
# jsonb), in a fresh connection; asserts its row count
server_call() {
	local out read="pg_catalog.pg_read_file('$TMP/payload.json')"
	if [[ ${2:-} == json ]]; then
		out=$("$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -c "CREATE TEMP TABLE p AS SELECT $read AS t" \
			-c '\timing on' -c "SELECT count(*) FROM p, $1(p.t::pg_catalog.jsonb)") || die "$1"
	else
		out=$("$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -c "CREATE TEMP TABLE p AS SELECT $read::pg_catalog.jsonb AS j" \
			-c '\timing on' -c "SELECT count(*) FROM p, $1(p.j)") || die "$1"
	fi
	local rows
	rows=$(sed -n 1p <<<"$out")
	case $1 in
	dbkit._folder_status) [[ $rows == "$N" ]] || die "$1 returned $rows rows, not $N" ;;
	dbkit_validate) [[ $rows == 0 ]] || die "$1 returned $rows findings, not 0" ;;
	esac
	T_MS=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
}

# the folder's digest as the server computes it, for the cached call alone
DIGEST=$("$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -c "SELECT dbkit._folder_digest(pg_catalog.pg_read_file('$TMP/payload.json')::pg_catalog.jsonb)")
[[ $DIGEST =~ ^[0-9a-f]{64}$ ]] || die "no folder digest: $DIGEST"
cached_call() {
	local out
	out=$("$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -c '\timing on' -c "SELECT count(*) FROM dbkit_status_cached('$DIGEST')") ||
		die dbkit_status_cached
	[[ $(sed -n 1p <<<"$out") == "$N" ]] || die "dbkit_status_cached: not $N rows (not stored?)"
	T_MS=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
}

# the text view's rows stored with the answer (what a warm status without --all calls)
summary_call() {
	local out
	out=$("$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -c '\timing on' -c "SELECT count(*) FROM dbkit_status_cached_summary('$DIGEST')") ||
		die dbkit_status_cached_summary
	[[ $(sed -n 1p <<<"$out") == $((N < 20 ? N : 20)) ]] || die "dbkit_status_cached_summary: not the newest 20 rows (not stored?)"
	T_MS=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' <<<"$out")
}

METHODS=(status status_nocache check baseline select1 read stat server server_json validate cached summary)
declare -A T
run() {
	case $1 in
	status) timed 0 "$DBKIT" status --dir "$F"
		grep -q "^$N migrations in .*: $N applied$" "$TMP/out" || { cat "$TMP/out" >&2; die "status --dir is not $N applied"; } ;;
	status_nocache) DBKIT_NO_CACHE=1 timed 0 "$DBKIT" status --dir "$F"
		grep -q "^$N migrations in .*: $N applied$" "$TMP/out" || { cat "$TMP/out" >&2; die "status --dir is not $N applied"; } ;;
	check) timed 0 "$DBKIT" check --dir "$F"
		grep -q "0 errors, 0 warnings" "$TMP/out" || { cat "$TMP/out" >&2; die "check found something"; } ;;
	baseline) timed 0 "$DBKIT" status ;;
	select1) timed 0 "$PG_BIN/psql" -X -c 'SELECT 1' ;;
	read) timed 0 find "$F" -name '*.sql' -exec cat {} + ;;
	stat) timed 0 find "$F" -name '*.sql' -newer "$TMP/payload.json"
		[[ ! -s $TMP/out ]] || die "a migration is newer than the payload" ;;
	server) server_call dbkit._folder_status ;;
	server_json) server_call dbkit._folder_status json ;;
	validate) server_call dbkit_validate ;;
	cached) cached_call ;;
	summary) summary_call ;;
	esac
	T[$1]+="$T_MS "
}
for m in "${METHODS[@]}"; do run "$m"; done  # warm-up, not counted
T=()
for ((i = 0; i < RUNS; i++)); do
	for ((k = 0; k < ${#METHODS[@]}; k++)); do
		run "${METHODS[(i + k) % ${#METHODS[@]}]}"
	done
	log "round $((i + 1))/$RUNS: status --dir $(awk '{print $NF}' <<<"${T[status]}") ms, server $(awk '{print $NF}' <<<"${T[server]}") ms"
done
finished=$(date -u)

declare -A S
for m in "${METHODS[@]}"; do
	# shellcheck disable=SC2086 # one argument per time
	S[$m]=$(stats ${T[$m]})
done
base=$(med "${S[baseline]}")
row() { echo "| $1 | $(fmt_row "${S[$2]}") | $(ratio "$(med "${S[$2]}")" "$base") |"; }
cat <<EOF
### \`bench/status_bench.sh\`, N=$N, RUNS=$RUNS ($STARTED – $finished)

Command: \`PG_BIN=$PG_BIN N=$N RUNS=$RUNS bench/status_bench.sh\`
$(machine_lines)

| what (fresh process, fresh connection, nothing changed) | median (min–max) | ratio to baseline |
|---|---|---|
$(row "\`dbkit status --dir\` ($N applied), warm caches" status)
$(row "\`DBKIT_NO_CACHE=1 dbkit status --dir\` (every file read and sent)" status_nocache)
$(row "\`dbkit check --dir\`" check)
$(row "baseline: \`dbkit status\` (history only, newest 20 rows)" baseline)
$(row "\`psql -X -c 'SELECT 1'\`" select1)
$(row "read floor: \`find -exec cat\` of the $N files" read)
$(row "stat floor: \`find -newer\` (a stat of each of the $N files)" stat)
$(row "server alone: \`dbkit._folder_status(folder)\` (what status calls)" server)
$(row "server alone with the argument's text-to-jsonb cast" server_json)
$(row "server alone: \`dbkit_validate(folder)\` (what check calls)" validate)
$(row "server alone: \`dbkit_status_cached(digest)\` (every stored row: what a warm status --all or --json calls)" cached)
$(row "server alone: \`dbkit_status_cached_summary(digest)\` (the text view's rows: what a warm status calls)" summary)

- Target \`status --dir\` under 50 ms: $(awk -v m="$(med "${S[status]}")" 'BEGIN { print (m < 50) ? "**met**" : "**missed**" }') ($(fmt_s "$(med "${S[status]}")")); the server's call alone takes $(fmt_s "$(med "${S[server]}")").
EOF
