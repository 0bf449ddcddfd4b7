#!/usr/bin/env bash
# Issue #10: the DDL snapshot_to_ddl writes for a folder's newest drizzle snapshot
# builds the catalog the folder's migrations build. For each real folder: db A gets
# the migrations (psql, each file in one transaction; drizzle's breakpoint markers
# are SQL comments), db B gets `dbkit schema-ddl --snapshot NEWEST`; dbkit.snapshot()
# of both, without owners and privileges, must be equal. Where they are not, the
# differences are pinned in tests/snapshot-ddl/expected/<folder>.diff with the
# reason (a migration written by hand after the newest snapshot, column order).
source "$(dirname "$0")/lib.sh"
EXPECTED="$DBKIT_SRC/tests/snapshot-ddl/expected"
ROLE=dbkit_snapddl_reader  # a policy of the all-constructs fixtures names it: roles are cluster-wide
DBS=()

# The cluster may outlive a failed run: create the role when missing, drop it at the end.
"${PSQL[@]}" -d postgres -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN CREATE ROLE $ROLE; END IF; END\$\$"
_snapddl_cleanup() {
	local d
	for d in "${DBS[@]}"; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$d\"" >/dev/null 2>&1 || true; done
	"${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1 || true
}
E2E_CLEANUP+=(_snapddl_cleanup)

# migration_files DIR: the folder's migration files in the order drizzle applies them.
migration_files() {
	if [[ -f $1/meta/_journal.json ]]; then
		python3 -c 'import json,sys; [print(sys.argv[1] + "/" + e["tag"] + ".sql") for e in json.load(open(sys.argv[1] + "/meta/_journal.json"))["entries"]]' "$1"
	else
		find "$1" -mindepth 2 -maxdepth 2 -name migration.sql | sort
	fi
}
# newest_snapshot DIR: the snapshot of the newest migration.
newest_snapshot() {
	if [[ -f $1/meta/_journal.json ]]; then
		find "$1/meta" -name '*_snapshot.json' | sort | tail -n 1
	else
		find "$1" -mindepth 2 -maxdepth 2 -name snapshot.json | sort | tail -n 1
	fi
}

folders=("$DBKIT_SRC"/tests/fixtures/*/migrations "$DBKIT_SRC"/examples/migrations
	"$DBKIT_SRC"/tests/check-corpus/clean-base/migrations "$DBKIT_SRC"/tests/check-corpus/clean-folders-layout/migrations
	"$DBKIT_SRC"/tests/snapshot-ddl/*/migrations)
i=0
for f in "${folders[@]}"; do
	i=$((i + 1))
	name=$(basename "$(dirname "$f")")
	case_begin "$name"
	snap=$(newest_snapshot "$f")
	fresh_db "snapddl_${i}_m"
	DBS+=("snapddl_${i}_m")
	ok=1
	while IFS= read -r m; do
		if ! "${PSQL[@]}" -1 -f "$m" >"$WORK/apply.out" 2>&1; then
			fail "$name: migration $(basename "$m") does not apply: $(cat "$WORK/apply.out")"
			ok=
		fi
	done < <(migration_files "$f")
	[[ -n $ok ]] && pass "$name: $(migration_files "$f" | wc -l) migrations applied"
	q 'SELECT dbkit.snapshot()' >"$WORK/migrations.json"

	run schema-ddl --snapshot "$snap"
	assert_eq 0 "$RC" "$name: schema-ddl $(basename "$(dirname "$snap")")/$(basename "$snap") exits 0 ($ERR)"
	printf '%s\n' "$OUT" >"$WORK/ddl.sql"
	[[ -z $ERR ]] || echo "   schema-ddl warnings: $ERR"
	fresh_db "snapddl_${i}_s"
	DBS+=("snapddl_${i}_s")
	if "${PSQL[@]}" -1 -f "$WORK/ddl.sql" >"$WORK/apply.out" 2>&1; then
		pass "$name: the snapshot's DDL ($(grep -c -- '--> statement-breakpoint' "$WORK/ddl.sql") breakpoints) applies in one transaction"
	else
		fail "$name: the snapshot's DDL does not apply: $(cat "$WORK/apply.out")"
	fi
	q 'SELECT dbkit.snapshot()' >"$WORK/snapshot.json"

	diff_now=$(python3 "$DBKIT_SRC/tests/e2e/snapshot_ddl_compare.py" "$WORK/migrations.json" "$WORK/snapshot.json")
	expected=""
	[[ -f $EXPECTED/$name.diff ]] && expected=$(grep -v '^#' "$EXPECTED/$name.diff" || true)
	assert_eq "$expected" "$diff_now" "$name: the snapshot's catalog equals the migrations' catalog (but for the differences pinned in expected/$name.diff)"
	n_keys=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$WORK/migrations.json")
	echo "   $name: $n_keys catalog objects compared; $(grep -c . <<<"$diff_now" || true) difference lines"
	export PGDATABASE=postgres
	"${PSQL[@]}" -d postgres -c "DROP DATABASE \"snapddl_${i}_m\"" -c "DROP DATABASE \"snapddl_${i}_s\""
done
finish
