#!/usr/bin/env bash
# The tests run against the extension installed in the system PostgreSQL (one copy per
# machine). Fails unless that copy is the one this tree built (same sha256 as
# ./dbkit.so in the source root, same control file and sql/ scripts), so `make test`
# never tests whatever was installed last.
# Usage: tests/check_installed.sh [SOURCE_ROOT]   (default: DBKIT_SRC, else this script's ..)
set -euo pipefail
src=${1:-${DBKIT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}}
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}  # as the Makefile
installed=$("$pg_config" --pkglibdir)/dbkit.so
built=$src/dbkit.so
if [[ ! -f $built ]]; then
	echo "check_installed: $built does not exist: build the extension first (make all), then make install" >&2
	exit 1
fi
if [[ ! -f $installed ]]; then
	echo "check_installed: the extension is not installed ($installed missing): run make install in $src" >&2
	exit 1
fi
b=$(sha256sum <"$built" | cut -d' ' -f1)
i=$(sha256sum <"$installed" | cut -d' ' -f1)
if [[ $b != "$i" ]]; then
	echo "check_installed: the installed $installed (sha256 ${i:0:16}) is not the one built in $src (sha256 ${b:0:16})." >&2
	echo "  Another tree was installed since. Run make install in $src (make test does), under the same lock as the tests." >&2
	exit 1
fi
# The SQL scripts and the control file too: a tree whose library matches but whose
# upgrade script changed would otherwise be tested with the old script.
sharedir=$("$pg_config" --sharedir)/extension
for f in "$src"/dbkit.control "$src"/sql/dbkit--*.sql; do
	inst=$sharedir/$(basename "$f")
	if [[ ! -f $inst ]] || ! cmp -s "$f" "$inst"; then
		echo "check_installed: $inst is missing or is not $f of this tree: run make install in $src (make test does)." >&2
		exit 1
	fi
done
echo "check_installed: $installed is $built (sha256 ${b:0:16}), and the control file and SQL scripts match"
