#!/usr/bin/env bash
# Issue 17 item 8: with --json every run prints exactly one JSON document on
# stdout, errors included: an unknown flag, a missing value, a bad --transaction
# or --lock-timeout, a missing --reason or TAG, an unknown subcommand, a failed
# init, a failed command, no connection, a missing folder. Walks them for every
# command and parses stdout with python3's json module.
source "$(dirname "$0")/lib.sh"
fresh_db json_errors
FIX="$DBKIT_SRC/tests/fixtures"
DIR="$WORK/m"
cp -r "$DBKIT_SRC/tests/check-corpus/clean-base/migrations" "$DIR"

# one JSON document on stdout, "ok" as expected, the exit code as expected
expect_doc() { # want_rc want_ok label -- args...
	local want_rc=$1 want_ok=$2 label=$3
	shift 4
	set +e
	"$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
	local verdict
	verdict=$(python3 - "$WORK/out" "$want_ok" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
try:
    doc, end = json.JSONDecoder().raw_decode(text.strip())
except ValueError as e:
    print("not JSON: %s: %r" % (e, text[:200])); sys.exit()
if text.strip()[end:].strip():
    print("more than one document: %r" % text[:300]); sys.exit()
if not isinstance(doc, dict) or "ok" not in doc:
    print("no ok field: %r" % text[:200]); sys.exit()
want = sys.argv[2] == "true"
if doc["ok"] is not want:
    print("ok is %r" % doc["ok"]); sys.exit()
if not want and not (isinstance(doc.get("error"), dict) and doc["error"].get("message")):
    print("no error.message: %r" % text[:300]); sys.exit()
print("fine")
PY
)
	if [[ "$verdict" == fine && "$RC" == "$want_rc" ]]; then
		pass "$label"
	else
		fail "$label: exit $RC (want $want_rc), stdout: $verdict; stderr: ${ERR:0:200}"
	fi
}

ALL=(migrate status check drift lint accept-drift mark-applied baseline forget accept-change init)
for cmd in "${ALL[@]}"; do
	expect_doc 2 false "$cmd: unknown flag" -- "$DBKIT" "$cmd" --json --no-such-flag
	expect_doc 2 false "$cmd: --url without its value" -- "$DBKIT" "$cmd" --json --url
done
expect_doc 2 false "unknown subcommand" -- "$DBKIT" --json frobnicate
expect_doc 2 false "no subcommand" -- "$DBKIT" --json
expect_doc 2 false "migrate: bad --transaction" -- "$DBKIT" migrate --json --dir "$DIR" --transaction sometimes
expect_doc 2 false "migrate: --transaction without its value" -- "$DBKIT" migrate --dir "$DIR" --json --transaction
expect_doc 2 false "migrate: bad --lock-timeout" -- "$DBKIT" migrate --json --dir "$DIR" --lock-timeout soon
expect_doc 2 false "migrate: bad --statement-timeout" -- "$DBKIT" migrate --json --dir "$DIR" --statement-timeout 5parsecs
expect_doc 2 false "migrate: bad --lock-retries" -- "$DBKIT" migrate --json --dir "$DIR" --lock-retries many
expect_doc 2 false "accept-drift: missing --reason" -- "$DBKIT" accept-drift --json
for cmd in mark-applied forget accept-change; do
	expect_doc 2 false "$cmd: missing --reason" -- "$DBKIT" "$cmd" --json --dir "$DIR" 0000_create_widgets
done
for cmd in mark-applied baseline forget accept-change; do
	expect_doc 2 false "$cmd: missing TAG" -- "$DBKIT" "$cmd" --json --reason why
done
for cmd in migrate status check lint; do
	expect_doc 2 false "$cmd: missing folder" -- "$DBKIT" "$cmd" --json --dir "$WORK/nowhere"
done
expect_doc 2 false "drift: missing folder" -- "$DBKIT" drift --json --dir "$WORK/nowhere"
for cmd in migrate status drift lint accept-drift init; do
	args=("$cmd" --json --url "postgresql:///nodb?host=$WORK/nosocket")
	[[ $cmd == accept-drift ]] && args+=(--reason why)
	[[ $cmd == migrate || $cmd == status || $cmd == lint ]] && args+=(--dir "$DIR")
	expect_doc 3 false "$cmd: cannot connect" -- "$DBKIT" "${args[@]}"
done

# init: fails for a role that may not create the extension; succeeds as superuser
q "DROP ROLE IF EXISTS json_weak; CREATE ROLE json_weak LOGIN"
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS json_noext" -c "CREATE DATABASE json_noext"
expect_doc 3 false "init: refused (not a superuser)" -- env PGUSER=json_weak PGDATABASE=json_noext "$DBKIT" init --json
assert_contains "$OUT" "cannot create the extension" "init: the JSON error says what failed"
expect_doc 3 false "migrate: extension missing" -- env PGDATABASE=json_noext "$DBKIT" migrate --json --dir "$DIR"
expect_doc 0 true "init: success prints JSON, not text" -- env PGDATABASE=json_noext "$DBKIT" init --json
expect_doc 0 true "init: again (already there)" -- env PGDATABASE=json_noext "$DBKIT" init --json

# failures reported by the server
expect_doc 0 true "migrate: success" -- "$DBKIT" migrate --json --dir "$DIR"
expect_doc 1 false "accept-drift: refused for a role without rights" -- env PGUSER=json_weak "$DBKIT" accept-drift --json --reason why
expect_doc 1 false "forget: unknown tag" -- "$DBKIT" forget --json --reason why 9999_nothing
expect_doc 1 false "mark-applied: unknown tag" -- "$DBKIT" mark-applied --json --dir "$DIR" --reason why 9999_nothing
run "$DBKIT" migrate --help --json
assert_contains "$OUT" "--dry-run" "--help still prints help"
"${PSQL[@]}" -d postgres -c "DROP DATABASE json_noext"
q "DROP OWNED BY json_weak; DROP ROLE json_weak" 2>/dev/null || true
finish
