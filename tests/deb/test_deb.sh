#!/usr/bin/env bash
# make test-deb (not part of make test: it replaces the system-installed extension for a while).
# TEST_DEB_REUSE=1 tests the packages already in build/deb instead of running make deb first.
#   1. make deb; the tree's own build too, so nothing compiles while the lock is held
#   2. lintian on both packages: no error or warning (none needs an override today; one would go into
#      debian/PACKAGE.lintian-overrides with a comment saying why, and is listed here as O:)
#   3. under /tmp/dbkit-pg.lock (the e2e tests of everybody on this machine use the installed extension):
#      make uninstall, apt-get install ./*.deb, CREATE EXTENSION dbkit (and 0.1.0 + ALTER EXTENSION UPDATE)
#      in a private cluster, migrate examples/migrations with /usr/bin/dbkit, apt-get purge, make install.
#      The packages are removed and make install is restored on every exit path.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${DEB_DIR:-$here/build/deb}
LOCK=/tmp/dbkit-pg.lock
FAILS=0
PASSES=0
pass() { echo "ok: $*"; PASSES=$((PASSES + 1)); }
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
assert_eq() { if [[ "$1" == "$2" ]]; then pass "$3"; else fail "$3: expected [$1], got [$2]"; fi; }
finish() {
	echo "$PASSES passed, $FAILS failed"
	((FAILS == 0))
}
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

if [[ ${1:-} != --locked ]]; then
	[[ $(id -u) -eq 0 ]] || { echo "make test-deb: run as root (it installs and removes packages)" >&2; exit 2; }
	if [[ ${TEST_DEB_REUSE:-} == 1 && -n $(ls "$out"/dbkit_*.deb 2>/dev/null) ]]; then
		echo "test-deb: TEST_DEB_REUSE=1: testing the packages already in $out (built $(date -r "$out"/dbkit_*.deb))"
	else
		make -C "$here" --no-print-directory deb DEB_DIR="$out"
	fi
	make -C "$here" --no-print-directory -j2 all >/dev/null
	make -C "$here" --no-print-directory client >/dev/null
	for p in postgresql-15-dbkit dbkit; do
		ls "$out"/${p}_*.deb >/dev/null 2>&1 && pass "make deb built $p" || fail "make deb built no $p package"
	done
	ext_files=$(dpkg-deb -c "$out"/postgresql-15-dbkit_*.deb | awk '{print $6}')
	for f in ./usr/lib/postgresql/15/lib/dbkit.so ./usr/share/postgresql/15/extension/dbkit.control \
		./usr/share/postgresql/15/extension/dbkit--0.1.0.sql ./usr/share/postgresql/15/extension/dbkit--0.1.0--0.2.0.sql; do
		grep -qxF "$f" <<<"$ext_files" && pass "postgresql-15-dbkit has $f" || fail "postgresql-15-dbkit lacks $f"
	done
	cli_files=$(dpkg-deb -c "$out"/dbkit_*.deb | awk '{print $6}')
	for f in ./usr/bin/dbkit ./usr/share/man/man1/dbkit.1.gz; do
		grep -qxF "$f" <<<"$cli_files" && pass "dbkit has $f" || fail "dbkit lacks $f"
	done
	assert_eq "postgresql-15" "$(dpkg-deb -f "$out"/postgresql-15-dbkit_*.deb Depends | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -x postgresql-15)" \
		"postgresql-15-dbkit depends on postgresql-15"
	grep -q libpq5 <<<"$(dpkg-deb -f "$out"/dbkit_*.deb Depends)" && pass "dbkit depends on libpq5" || fail "dbkit does not depend on libpq5"

	# lintian: errors and warnings fail the test; overridden tags would be listed (O:). There are no
	# overrides: both packages are lintian-clean (info level included) as of 0.2.0.
	command -v lintian >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends lintian >/dev/null
	set +e
	lint=$(lintian --show-overrides --fail-on error,warning "$out"/postgresql-15-dbkit_*.deb "$out"/dbkit_*.deb 2>&1)
	lint_rc=$?
	set -e
	echo "$lint" | sed 's/^/  lintian: /'
	assert_eq 0 "$lint_rc" "lintian: no error or warning on either package"
	assert_eq "" "$(grep -E '^(E|W): ' <<<"$lint" || true)" "lintian: no E: or W: line"

	set +e
	flock "$LOCK" "$0" --locked
	rc=$?
	set -e
	((rc == 0)) && pass "installed packages: every check passed (above)" || fail "installed packages: $rc check(s) failed (above)"
	finish
	exit
fi

# ---- under the lock ----
source "$here/scripts/pgcluster.sh"
restore() {
	pg_cluster_stop
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq dbkit postgresql-15-dbkit >/dev/null 2>&1 || true
	make -C "$here" --no-print-directory install >/dev/null
}
trap restore EXIT
sharedir=$($PG_CONFIG --sharedir)
pkglibdir=$($PG_CONFIG --pkglibdir)
installed() { for f in "$sharedir/extension/dbkit.control" "$pkglibdir/dbkit.so" "$@"; do [[ -e $f ]] || return 1; done; }

make -C "$here" --no-print-directory uninstall >/dev/null
installed || pass "make uninstall removed the extension"
[[ -e /usr/local/bin/dbkit ]] && fail "make uninstall left /usr/local/bin/dbkit" || pass "make uninstall removed /usr/local/bin/dbkit"
[[ -n $(ls "$sharedir"/extension/dbkit--*.sql 2>/dev/null) ]] && fail "make uninstall left the sql scripts" || pass "make uninstall removed the sql scripts"

(cd "$out" && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ./postgresql-15-dbkit_*.deb ./dbkit_*.deb >/dev/null)
for p in postgresql-15-dbkit dbkit; do
	assert_eq "install ok installed" "$(dpkg-query -W -f='${Status}' $p 2>/dev/null)" "apt-get install ./*.deb: $p installed"
done
installed /usr/bin/dbkit && pass "the packages put the extension and /usr/bin/dbkit in place" || fail "files missing after install"
assert_eq postgresql-15-dbkit "$(dpkg -S "$pkglibdir/dbkit.so" | cut -d: -f1)" "dbkit.so belongs to postgresql-15-dbkit"

pg_cluster_start
P=(psql -X -A -t -q -v ON_ERROR_STOP=1)
"${P[@]}" -c 'CREATE DATABASE app' -c 'CREATE DATABASE upgraded'
"${P[@]}" -d app -c 'CREATE EXTENSION dbkit'
default=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$sharedir/extension/dbkit.control")
assert_eq "$default" "$("${P[@]}" -d app -c "SELECT extversion FROM pg_extension WHERE extname = 'dbkit'")" \
	"CREATE EXTENSION dbkit from the package: version $default"
"${P[@]}" -d upgraded -c "CREATE EXTENSION dbkit VERSION '0.1.0'" -c 'ALTER EXTENSION dbkit UPDATE'
assert_eq "$default" "$("${P[@]}" -d upgraded -c "SELECT extversion FROM pg_extension WHERE extname = 'dbkit'")" \
	"the package's scripts take 0.1.0 to $default with ALTER EXTENSION dbkit UPDATE"

work=$(mktemp -d /tmp/dbkit-deb.XXXXXX)
trap 'rm -rf "$work"; restore' EXIT
cp -r "$here/examples/migrations" "$work/migrations"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["entries"]))' "$work/migrations/meta/_journal.json")
set +e
DATABASE_URL="postgresql:///app?host=$PGHOST&port=$PGPORT&user=postgres" /usr/bin/dbkit migrate --dir "$work/migrations" >"$work/out" 2>&1
rc=$?
set -e
cat "$work/out"
assert_eq 0 "$rc" "/usr/bin/dbkit migrate examples/migrations: exit 0"
assert_eq "$n" "$("${P[@]}" -d app -c 'SELECT count(*) FROM dbkit.migrations')" "all $n example migrations applied"
set +e
DATABASE_URL="postgresql:///app?host=$PGHOST&port=$PGPORT&user=postgres" /usr/bin/dbkit drift --dir "$work/migrations" >/dev/null 2>&1
assert_eq 0 "$?" "/usr/bin/dbkit drift: no drift"
set -e
[[ $(/usr/bin/dbkit --version) == *"$default"* ]] && pass "/usr/bin/dbkit --version says $default" || fail "/usr/bin/dbkit --version: $(/usr/bin/dbkit --version)"
pg_cluster_stop

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq dbkit postgresql-15-dbkit >/dev/null
installed && fail "apt-get purge left the extension" || pass "apt-get purge removed the extension"
[[ -e /usr/bin/dbkit ]] && fail "apt-get purge left /usr/bin/dbkit" || pass "apt-get purge removed /usr/bin/dbkit"

trap 'rm -rf "$work"' EXIT
make -C "$here" --no-print-directory install >/dev/null
installed /usr/local/bin/dbkit && pass "make install put the tree's build back" || fail "make install did not restore the extension"
((FAILS == 0)) || exit "$FAILS"
exit 0
