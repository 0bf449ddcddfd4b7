#!/usr/bin/env bash
# Runs every fault script (tests/faults/fault_*.sh, or those named as arguments), one
# after the other, each with its own private cluster. One line per fault: ok/FAIL, the
# time it took and what happened; a failing fault's failed assertions follow indented.
# Last line: "N passed, M failed". Exit status 1 if any failed.
# Env: DBKIT (client binary), DBKIT_SRC (repository root); FAULTS_LOG_DIR: where the
# logs go (kept); without it they go to a temporary directory, removed if all passed.
set -euo pipefail
: "${DBKIT:?set DBKIT to the client binary}" "${DBKIT_SRC:?set DBKIT_SRC to the repository root}"
export DBKIT DBKIT_SRC
"$DBKIT_SRC/tests/check_installed.sh" "$DBKIT_SRC" >/dev/null
here=$(cd "$(dirname "$0")" && pwd)
logs=${FAULTS_LOG_DIR:-$(mktemp -d /tmp/dbkit-faults-logs.XXXXXX)}
keep_logs=${FAULTS_LOG_DIR:+yes}
mkdir -p "$logs"
if (($# > 0)); then
	scripts=()
	for a in "$@"; do # a name, or its start: a, d_kill, fault_e_concurrent_16.sh
		a=$(basename "${a%.sh}")
		a=${a#fault_}
		m=$(compgen -G "$here/fault_${a}*.sh" | head -1 || true)
		scripts+=("${m:-$here/fault_$a.sh}")
	done
else
	scripts=("$here"/fault_*.sh)
fi
passed=0 failed=0 t_all=$SECONDS
for s in "${scripts[@]}"; do
	name=$(basename "$s" .sh)
	name=${name#fault_}
	log=$logs/$name.log
	t0=$SECONDS
	set +e
	timeout -k 10 300 bash "$s" >"$log" 2>&1
	rc=$?
	set -e
	secs=$((SECONDS - t0))
	summary=$(grep '^SUMMARY: ' "$log" | tail -1 | sed 's/^SUMMARY: //' || true)
	if ((rc == 0)) && ! grep -q '^  FAIL: ' "$log"; then
		passed=$((passed + 1))
		echo "ok   $name (${secs} s): $summary"
	else
		failed=$((failed + 1))
		((rc == 124 || rc == 137)) && summary="timed out after 300 s; ${summary}"
		[[ -n $summary ]] || summary="exit $rc: $(grep -v '^  ok: ' "$log" | tail -3 | tr '\n' ' ' || true)"
		echo "FAIL $name (${secs} s): $summary"
		grep '^  FAIL: ' "$log" | sed 's/^  FAIL: /       /' || true
		echo "       log: $log"
	fi
done
if ((failed == 0)) && [[ -z $keep_logs ]]; then
	rm -rf "$logs"
	echo "faults took $((SECONDS - t_all)) s (set FAULTS_LOG_DIR to keep the logs)"
else
	echo "faults took $((SECONDS - t_all)) s; logs in $logs"
fi
echo "$passed passed, $failed failed"
((failed == 0))
