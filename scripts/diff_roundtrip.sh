#!/bin/bash
# The schema diff's round trip, for development (issue 10): two databases built
# from FROM.sql and TO.sql, the plan `dbkit diff-snapshots` makes from the first's
# dbkit.snapshot() to the second's, applied to the first; then its snapshot must
# equal the second's (owner and acl aside) and a second diff must be empty.
#   scripts/diff_roundtrip.sh FROM.sql TO.sql [diff-snapshots options...]
# Needs python3. Environment: DBKIT (the client), PSQL (e.g. "psql -h /tmp/x -p 5497 -U postgres"),
# KEEP=1 keeps the databases. The server needs the dbkit extension installed.
set -euo pipefail
from_sql=$1 to_sql=$2; shift 2
DBKIT=${DBKIT:-build/client/dbkit}
PSQL=${PSQL:-psql}
work=$(mktemp -d)
a=dbkit_rt_a_$$ b=dbkit_rt_b_$$
q() { $PSQL -X -q -v ON_ERROR_STOP=1 "$@"; }
cleanup() { [ "${KEEP:-}" = 1 ] || { q -d postgres -c "DROP DATABASE IF EXISTS $a" -c "DROP DATABASE IF EXISTS $b" >/dev/null 2>&1; rm -rf "$work"; }; }
trap cleanup EXIT
for db in $a $b; do q -d postgres -c "CREATE DATABASE $db" >/dev/null; q -d $db -c "CREATE EXTENSION dbkit" >/dev/null; done
q -d $a -f "$from_sql" >/dev/null
q -d $b -f "$to_sql" >/dev/null
# owner and acl left out (python, not jq: jq rounds 9223372036854775807)
snap() {
	q -d "$1" -At -c "SELECT dbkit.snapshot()" | python3 -c '
import json, sys
s = json.load(sys.stdin)
for v in s.values():
    if isinstance(v, dict):
        v.pop("owner", None); v.pop("acl", None)
json.dump(s, sys.stdout, indent=1, sort_keys=True)' > "$2"
}
snap $a "$work/from.json"
snap $b "$work/to.json"
set +e
"$DBKIT" diff-snapshots "$work/from.json" "$work/to.json" "$@" > "$work/plan.sql"
rc=$?
set -e
cat "$work/plan.sql"
[ $rc = 0 ] || { echo "== refused (exit $rc)"; exit $rc; }
# autocommit: each statement on its own, as the CONCURRENTLY ones need
q -d $a -f "$work/plan.sql" >/dev/null
snap $a "$work/after.json"
# Column order: ADD COLUMN appends, so a column added in the middle lands last; the
# diff does not reorder columns (a table rewrite). Positions are compared apart.
nopos() { python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
for k, v in s.items():
    if k.startswith("column:"): v.pop("position", None)
json.dump(s, sys.stdout, indent=1, sort_keys=True)' "$1"; }
if ! diff -q "$work/after.json" "$work/to.json" >/dev/null && diff <(nopos "$work/after.json") <(nopos "$work/to.json") >/dev/null; then
	echo "== note: the columns are the same but not in the same order (ADD COLUMN appends)"
	nopos "$work/after.json" > "$work/after.nopos"; mv "$work/after.nopos" "$work/after.json"
	nopos "$work/to.json" > "$work/to.nopos"; mv "$work/to.nopos" "$work/to.json"
fi
if diff "$work/after.json" "$work/to.json" > "$work/delta"; then
	again=$("$DBKIT" diff-snapshots "$work/after.json" "$work/to.json" || true)
	[ -z "$again" ] || { echo "== second diff not empty:"; echo "$again"; exit 1; }
	echo "== round trip OK ($(grep -c ';$' "$work/plan.sql") statements)"
else
	echo "== after the plan, the snapshots differ (< after, > desired):"; cat "$work/delta"; exit 1
fi
