# Shared by the e2e tests: the cluster's coordinates and a few assertions.
set -euo pipefail
source "$E2E_STATE"
unset DATABASE_URL
PSQL=(psql -X -A -t -q -v ON_ERROR_STOP=1)
WORK=$(mktemp -d /tmp/dbkit-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0

# A fresh database with the extension; sets PGDATABASE.
fresh_db() {
	local name=$1
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
	"${PSQL[@]}" -d "$name" -c "CREATE EXTENSION dbkit"
	export PGDATABASE=$name
}
q() { "${PSQL[@]}" -c "$1"; }

fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
pass() { echo "ok: $*"; }
assert_eq() { # expected actual message
	if [[ "$1" == "$2" ]]; then pass "$3"; else fail "$3: expected [$1], got [$2]"; fi
}
assert_contains() { # haystack needle message
	if [[ "$1" == *"$2"* ]]; then pass "$3"; else fail "$3: [$2] not found in: $1"; fi
}
assert_not_contains() { # haystack needle message
	if [[ "$1" != *"$2"* ]]; then pass "$3"; else fail "$3: [$2] found in: $1"; fi
}
# Runs the client; sets RC, OUT, ERR.
run() {
	set +e
	"$DBKIT" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
copy_fixture() { # src dest
	cp -r "$1" "$2"
}
# A schema dump that ignores dbkit's own data: what the migrations built.
schema_dump() { pg_dump -s -d "$PGDATABASE" --exclude-schema=dbkit | grep -v '^\\\(un\)\?restrict '; }
finish() {
	if ((FAILS > 0)); then
		echo "$FAILS assertion(s) failed" >&2
		exit 1
	fi
	echo "all assertions passed"
}
