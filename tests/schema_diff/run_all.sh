#!/bin/bash
# The schema diff's round trips, both ways, on a running server with dbkit installed
# (not part of make test yet). PSQL and DBKIT as scripts/diff_roundtrip.sh takes them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
rt=$here/../../scripts/diff_roundtrip.sh
fail=0
run() { if "$rt" "$@" > /tmp/dbkit_rt.$$ 2>&1; then echo "ok   $* ($(tail -1 /tmp/dbkit_rt.$$))"; else echo "FAIL $*"; cat /tmp/dbkit_rt.$$; fail=1; fi; }
cd "$here"
run 1_from.sql 1_to.sql --drop-and-add
run 1_to.sql 1_from.sql --drop-and-add
run 2_from.sql 2_to.sql --rename public.users.bio=about --rename public.posts=articles --rename public.mood.sad=unhappy
run 2_to.sql 2_from.sql --drop-and-add
run 3_from.sql 3_to.sql
run 3_to.sql 3_from.sql
rm -f /tmp/dbkit_rt.$$
exit $fail
