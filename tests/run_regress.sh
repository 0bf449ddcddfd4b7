#!/usr/bin/env bash
# Runs the pg_regress suite (regress/sql vs regress/expected) against a
# throwaway instance. The extension must be installed (make install).
# Usage: run_regress.sh SOURCE_DIR OUTPUT_DIR [test ...]
set -euo pipefail
src=$1 out=$2
shift 2
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_REGRESS=${PG_REGRESS:-/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress}
"$src/tests/check_installed.sh" "$src" >/dev/null

# The checkout may be unreadable to `postgres` (CI clones under /root): work in /tmp.
work=$(mktemp -d /tmp/dbkit-regress.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$src/regress/sql" "$src/regress/expected" "$work/"
# the tests include regress/sql/mkfolder.inc relative to where psql runs: the source root
# under make installcheck, this work directory here
ln -s . "$work/regress"
chmod 755 "$work"
as_owner() { "$@"; }
if [[ $(id -u) -eq 0 ]]; then
	chown -R postgres: "$work"
	as_owner() { runuser -u postgres -- "$@"; }
fi
if (($# == 0)); then
	set -- $(cd "$work/sql" && ls *.sql | sed 's/\.sql$//' | sort)
fi
cd "$work"
status=0
as_owner "$PG_REGRESS" --inputdir=. --outputdir=. --bindir="$PG_BIN" --temp-instance=./tmp_check \
	--encoding=UTF8 --no-locale "$@" || status=$?
if ((status != 0)); then
	[[ -f regression.diffs ]] && cat regression.diffs
	rm -rf "$out" && mkdir -p "$out" && cp -r results regression.diffs "$out/" 2>/dev/null || true
	echo "pg_regress failed; results kept in $out" >&2
fi
exit $status
