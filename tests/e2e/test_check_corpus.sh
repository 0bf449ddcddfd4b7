#!/usr/bin/env bash
# `dbkit check` on every case of tests/check-corpus (see its README.md): every
# expected finding is reported, with its subject when the case names one and
# with the right severity; the exit code is 5 when an error is expected, else 0;
# clean cases report no error; --offline needs no server; a check applies
# nothing (history, tables and schema are what the setup left).
source "$(dirname "$0")/lib.sh"
CORPUS=$DBKIT_SRC/tests/check-corpus
# Reported as warnings; every other code is an error (same list in make_corpus.py).
WARNING_CODES="journal.idx_not_contiguous journal.when_not_increasing folder.file_unlisted snapshot.missing snapshot.prev_missing snapshot.shared migration.empty migration.no_transaction migration.transaction_wrapper migration.own_transactions"

is_warning() { [[ " $WARNING_CODES " == *" $1 "* ]]; }
public_tables() { q "SELECT coalesce(string_agg(tablename, ',' ORDER BY tablename), '') FROM pg_tables WHERE schemaname = 'public'"; }

# Reads the --json document in $WORK/out against an expect file; prints one
# line per assertion ("ok ...", "fail ...") and a last line "end". A finding that
# no expect line asks for fails, unless it is listed for the case in ALSO below
# (a broken folder often has known consequences): those must be reported too.
cat >"$WORK/verify.py" <<'PY'
import json, sys

out_path, expect_path, warning_codes, also = sys.argv[1:5]
warnings = set(warning_codes.split())
raw = open(out_path, encoding="utf-8", errors="replace").read()
try:
    doc = json.loads(raw)
except ValueError as e:
    print(f"fail stdout is one JSON document ({e}): {raw[:300]!r}")
    sys.exit(0)
if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
    print(f"fail the document has a findings list: {raw[:300]!r}")
    sys.exit(0)
findings = doc["findings"]
fields = ("severity", "code", "subject", "message", "hint")
bad = [f for f in findings
       if not isinstance(f, dict) or not all(isinstance(f.get(k), str) for k in fields)
       or f["severity"] not in ("error", "warning")]
if bad:
    print(f"fail every finding has string severity (error|warning), code, subject, message, hint: {bad[:3]}")
    findings = [f for f in findings if f not in bad]
else:
    print("ok findings are well-formed")
errors = sum(f["severity"] == "error" for f in findings)
nwarn = sum(f["severity"] == "warning" for f in findings)
if doc.get("errors") == errors and doc.get("warnings") == nwarn:
    print(f"ok counts match the findings ({errors} errors, {nwarn} warnings)")
else:
    print(f"fail errors/warnings ({doc.get('errors')}/{doc.get('warnings')}) match the findings ({errors}/{nwarn})")
if doc.get("ok") is (errors == 0):
    print(f"ok \"ok\" is {str(errors == 0).lower()}")
else:
    print(f"fail \"ok\" is {doc.get('ok')!r} with {errors} error finding(s)")
if isinstance(doc.get("skipped"), list):
    print("ok \"skipped\" is a list")
else:
    print(f"fail \"skipped\" is a list, found {doc.get('skipped')!r}")

def show(f):
    return f"{f['severity']} {f['code']} [{f['subject']}]"

expected = [line.split(None, 1) for line in open(expect_path) if line.strip()]
used = set()
for e in expected:
    code, subject = e[0], (e[1].strip() if len(e) > 1 else None)
    want = "warning" if code in warnings else "error"
    label = code + (f" [{subject}]" if subject is not None else "")
    hits = [i for i, f in enumerate(findings) if f["code"] == code and (subject is None or f["subject"] == subject)]
    used.update(hits)
    if not hits:
        print(f"fail {label} is reported; reported: {', '.join(map(show, findings)) or 'nothing'}")
    elif not any(findings[i]["severity"] == want for i in hits):
        print(f"fail {label} is a {want}, reported as {findings[hits[0]]['severity']}")
    else:
        print(f"ok {label} reported as {want}")
if not expected:
    errs = [show(f) for f in findings if f["severity"] == "error"]
    print("ok clean: no error finding" if not errs else f"fail clean: no error finding, got {', '.join(errs)}")
for code in also.split():
    hits = [i for i, f in enumerate(findings) if f["code"] == code and i not in used]
    used.update(hits)
    if hits:
        print(f"ok known consequence {code} reported")
    else:
        print(f"fail known consequence {code} is reported (listed in ALSO); reported: {', '.join(map(show, findings)) or 'nothing'}")
for i, f in enumerate(findings):
    if i not in used:
        print(f"fail only the expected findings are reported; also reported: {show(f)}: {f['message']}")
print("end")
PY
# Findings a case reports besides its expect file: known consequences of the breakage
# (case name -> codes; a code once per finding). Anything else reported fails.
declare -A ALSO=()
# two entries 0002 with one meta/0002_snapshot.json: both share it (issue 17 item 10)
ALSO[journal-idx-duplicate]="snapshot.shared"

# check_result LABEL EXPECT-FILE EXPECTED-RC: asserts on RC and $WORK/out.
check_result() {
	local label=$1 expect=$2 want_rc=$3 line vrc ended=
	assert_eq "$want_rc" "$RC" "$label: exit code"
	if [[ $RC != 0 && $RC != 5 ]]; then echo "  $label: stderr: ${ERR:0:600}" >&2; fi
	set +e
	python3 "$WORK/verify.py" "$WORK/out" "$expect" "$WARNING_CODES" "${ALSO[$name]:-}" >"$WORK/verify.out" 2>"$WORK/verify.err"
	vrc=$?
	set -e
	while IFS= read -r line; do
		case $line in
		ok\ *) pass "$label: ${line#ok }" ;;
		fail\ *) fail "$label: ${line#fail }" ;;
		end) ended=1 ;;
		*) fail "$label: unexpected line from verify.py: $line" ;;
		esac
	done <"$WORK/verify.out"
	if [[ $vrc != 0 || -z $ended ]]; then
		fail "$label: verify.py stopped (exit $vrc) before its last assertion: $(head -c 2000 "$WORK/verify.err")"
	fi
}

# The cases run in lanes (lib.sh, run_lanes; each case has its own database); the first
# process also checks the corpus is current, and counts the cases.
if [[ -z ${E2E_LANE:-} ]]; then
	# The corpus is what make_corpus.py writes.
	set +e
	python3 "$CORPUS/make_corpus.py" --check >"$WORK/gen" 2>&1
	RC=$?
	set -e
	assert_eq 0 "$RC" "check-corpus is up to date with make_corpus.py ($(cat "$WORK/gen"))"
	run_lanes '^== check-corpus/'
	case_begin "corpus size"
	((LANE_CASES >= 38)) && pass "$LANE_CASES cases" || fail "expected at least 38 cases in $CORPUS, found $LANE_CASES"
	finish
	exit 0
fi

k=0
for dir in "$CORPUS"/*/; do
	[[ -f $dir/expect ]] || continue
	in_lane $((k++)) || continue
	name=$(basename "$dir")
	case_begin "check-corpus/$name"
	C=$WORK/$name
	cp -r "$dir" "$C"
	mode=$(tr -d '[:space:]' <"$C/mode")
	want_rc=0
	while read -r code _ || [[ -n ${code:-} ]]; do
		[[ -n $code ]] || continue
		is_warning "$code" || want_rc=5
	done <"$C/expect"

	case $mode in
	offline)
		# No server: a socket directory that does not exist.
		PGHOST=$WORK/nosocket PGDATABASE=nodb run check --offline --dir "$C/migrations" --json
		check_result "$name (offline)" "$C/expect" "$want_rc"
		;;
	online) ;;
	*)
		fail "$name: mode is offline or online, found [$mode]"
		continue
		;;
	esac

	fresh_db "check_${name//-/_}"
	applied=0
	if [[ -f $C/setup ]]; then
		setup=$(tr -d '[:space:]' <"$C/setup")
		run migrate --dir "$C/$setup"
		assert_eq 0 "$RC" "$name: setup $setup applies"
		applied=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["entries"]))' "$C/$setup/meta/_journal.json")
		assert_eq "$applied" "$(q 'SELECT count(*) FROM dbkit.migrations')" "$name: setup recorded $applied migrations"
	else
		assert_eq "" "$(public_tables)" "$name: fresh database has no table in public"
	fi
	tables=$(public_tables)
	schema=$(schema_dump)

	run check --dir "$C/migrations" --json
	check_result "$name (online)" "$C/expect" "$want_rc"

	assert_eq "$applied" "$(q 'SELECT count(*) FROM dbkit.migrations')" "$name: check recorded no migration"
	assert_eq "$tables" "$(public_tables)" "$name: check created no table in public"
	assert_eq "$schema" "$(schema_dump)" "$name: check changed no schema"
	"${PSQL[@]}" -d postgres -c "DROP DATABASE \"check_${name//-/_}\""
done
finish
