#!/usr/bin/env bash
# The acceptance matrix of the schema engine (issue 10): for every case directory
# under tests/e2e/roundtrip/NN_name/ (before.sql, after.sql, optional `flags` with
# --rename ... / --drop-and-add, optional `expect`), both ways to reach AFTER from BEFORE
# must work and agree:
#   A: a folder whose 0000 migration is BEFORE, migrated; `dbkit generate change
#      --schema after.sql` writes >= 1 migration; `dbkit migrate` applies it; a second
#      `generate --check` finds nothing (exit 0); `dbkit drift --dir` finds nothing.
#   B: the same BEFORE migration only, then `dbkit push --schema after.sql
#      --accept-data-loss`; a second push (--dry-run) finds nothing.
#   dbkit.snapshot() of A and B are equal, owner, acl and column positions aside.
# `expect` lines: strings the written migrations must hold; the line `no-change`
# instead says generate must write nothing and push must find nothing (a known gap).
# data.sql + data.out: a query whose output in both databases must be data.out (rows
# that survive a rename, a cast, an enum change).
# ROUNDTRIP_ONLY=REGEX runs the matching cases only (development).
# The cases run in lanes (lib.sh, run_lanes), each with its own pair of databases.
source "$(dirname "$0")/lib.sh"

CASES=$DBKIT_SRC/tests/e2e/roundtrip
if [[ -z ${E2E_LANE:-} ]]; then
	run_lanes '^== [0-9]'
	case_begin "matrix size"
	if ((LANE_CASES >= 40)) || [[ -n ${ROUNDTRIP_ONLY:-} ]]; then pass "$LANE_CASES cases"; else fail "only $LANE_CASES cases: the matrix needs at least 40"; fi
	finish
	exit 0
fi
DB_A=dbkit_rt_a$E2E_LANE
DB_B=dbkit_rt_b$E2E_LANE

# Two databases for the whole matrix, emptied between cases: every user schema,
# dbkit's and drizzle's dropped, the extension created again (CREATE DATABASE per case
# would cost a checkpoint each). Commits need not wait for the disk here.
export PGOPTIONS="${PGOPTIONS:-} -c synchronous_commit=off"
for db in $DB_A $DB_B; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"; done
E2E_CLEANUP+=("\"\${PSQL[@]}\" -d postgres -c 'DROP DATABASE IF EXISTS $DB_A' -c 'DROP DATABASE IF EXISTS $DB_B'")
reset_db() { # name
	"${PSQL[@]}" -d "$1" -c "SET client_min_messages = warning" -c "DROP EXTENSION IF EXISTS dbkit CASCADE" \
		-c "DO \$\$ DECLARE s text; BEGIN
		      FOR s IN SELECT nspname FROM pg_namespace WHERE nspname <> 'information_schema' AND nspname !~ '^pg_' LOOP
		        EXECUTE format('DROP SCHEMA %I CASCADE', s);
		      END LOOP; END \$\$" \
		-c "CREATE SCHEMA public" -c "CREATE EXTENSION dbkit"
}

# dbkit.snapshot() without owner and acl (not diffed) and column positions (ADD COLUMN
# appends; a column dropped and added again, or renamed, may differ only there).
snapshot_of() { # db (in SQL: jsonb_pretty prints keys sorted; no python per call)
	"${PSQL[@]}" -d "$1" -c "SELECT jsonb_pretty(coalesce(jsonb_object_agg(key, CASE WHEN jsonb_typeof(value) = 'object'
	    THEN value - 'owner' - 'acl' - CASE WHEN key LIKE 'column:%' THEN 'position' ELSE '' END ELSE value END), '{}'))
	  FROM jsonb_each(dbkit.snapshot())"
}

# A journal-layout folder whose one migration is 0000_before (write_journal without python).
before_folder() { # dir before.sql
	mkdir -p "$1/meta"
	cp "$2" "$1/0000_before.sql"
	printf '{"version": "7", "dialect": "postgresql", "entries": [{"idx": 0, "version": "7", "when": 1700000000000, "tag": "0000_before", "breakpoints": true}]}\n' >"$1/meta/_journal.json"
}

# The migration files of a folder, one path a line, in name order.
migrations_in() { find "$1" -maxdepth 1 -name '*.sql' | sort; }

roundtrip_case() { # case_dir
	local dir=$1 name flags=() expect=() nochange= f a b ma mb written line
	name=$(basename "$dir")
	case_begin "$name"
	[[ -f $dir/flags ]] && read -r -a flags <"$dir/flags"
	if [[ -f $dir/expect ]]; then
		while IFS= read -r line; do [[ -n $line ]] && expect+=("$line"); done <"$dir/expect"
	fi
	[[ " ${expect[*]-} " == *" no-change "* ]] && nochange=1
	f=$WORK/$name/folder
	before_folder "$f" "$dir/before.sql"
	cp -r "$f" "$WORK/$name/before_only"

	# A: generate + migrate
	reset_db $DB_A
	export PGDATABASE=$DB_A
	run migrate --dir "$f"
	assert_eq 0 "$RC" "$name: migrate BEFORE (A) ${ERR:0:2000}"
	run generate change --dir "$f" --schema "$dir/after.sql" ${flags[@]+"${flags[@]}"}
	assert_eq 0 "$RC" "$name: generate change ${ERR:0:2000}"
	written=$(($(migrations_in "$f" | wc -l) - 1))
	if [[ -n $nochange ]]; then
		assert_eq 0 "$written" "$name: generate writes nothing (known gap)"
		assert_contains "$OUT" "nothing to generate" "$name: generate says nothing to generate"
	else
		if ((written >= 1)); then pass "$name: generate wrote $written migration(s)"; else fail "$name: generate wrote no migration: $OUT"; fi
		local text
		text=$(migrations_in "$f" | tail -n +2 | xargs cat)
		local e
		for e in "${expect[@]+"${expect[@]}"}"; do
			assert_contains "$text" "$e" "$name: the migrations hold [$e]"
		done
	fi
	run migrate --dir "$f"
	assert_eq 0 "$RC" "$name: migrate the generated migrations (A) ${ERR:0:2000}"
	# Without the flags: a --rename names a change still to make, and after migrate
	# the old name is gone (generate refuses a rename of nothing).
	run generate again --dir "$f" --schema "$dir/after.sql" --check
	assert_eq 0 "$RC" "$name: generate --check after migrate is empty: ${OUT:0:3000} ${ERR:0:1000}"
	run drift --dir "$f"
	assert_eq 0 "$RC" "$name: no drift after migrate: ${OUT:0:3000} ${ERR:0:1000}"

	# B: push
	reset_db $DB_B
	export PGDATABASE=$DB_B
	run migrate --dir "$WORK/$name/before_only"
	assert_eq 0 "$RC" "$name: migrate BEFORE (B) ${ERR:0:2000}"
	run push --schema "$dir/after.sql" --accept-data-loss ${flags[@]+"${flags[@]}"}
	assert_eq 0 "$RC" "$name: push ${ERR:0:2000}"
	if [[ -n $nochange ]]; then
		assert_contains "$OUT" "already matches" "$name: push finds nothing to do (known gap)"
	fi
	# a push converges: what it wrote is what PostgreSQL stores for the schema file
	run push --schema "$dir/after.sql" --dry-run
	assert_contains "$OUT" "already matches" "$name: a second push finds nothing: ${OUT:0:2000} ${ERR:0:1000}"

	if [[ -f $dir/data.sql ]]; then
		local want
		want=$(cat "$dir/data.out")
		assert_eq "$want" "$("${PSQL[@]}" -d $DB_A -f "$dir/data.sql")" "$name: the rows kept their data (generate+migrate)"
		assert_eq "$want" "$("${PSQL[@]}" -d $DB_B -f "$dir/data.sql")" "$name: the rows kept their data (push)"
	fi
	a=$(snapshot_of $DB_A)
	b=$(snapshot_of $DB_B)
	assert_eq "$a" "$b" "$name: snapshot after generate+migrate == snapshot after push"

}

k=0
for dir in "$CASES"/*/; do
	dir=${dir%/}
	[[ -z ${ROUNDTRIP_ONLY:-} || $(basename "$dir") =~ $ROUNDTRIP_ONLY ]] || continue
	if in_lane $k; then roundtrip_case "$dir"; fi
	k=$((k + 1))
done
finish
