#!/usr/bin/env bash
# Every real drizzle-kit folder applies; a second run applies nothing; hashes
# match sha256sum of the files; drizzle's table agrees.
source "$(dirname "$0")/lib.sh"
folders=()
for d in "$DBKIT_SRC"/tests/fixtures/*/ "$DBKIT_SRC"/examples/; do
	while IFS= read -r j; do folders+=("$(dirname "$(dirname "$j")")"); done < <(find "$d" -path '*/meta/_journal.json')
done
((${#folders[@]} > 0)) || fail "no fixture folders found"
i=0
for f in "${folders[@]}"; do
	i=$((i + 1))
	fresh_db "fixture_$i"
	n=$(ls "$f"/*.sql | wc -l)
	run migrate --dir "$f"
	assert_eq 0 "$RC" "$f: migrate exits 0"
	assert_contains "$OUT" "applied $n migration" "$f: applies all $n"
	assert_eq "$n" "$(q 'SELECT count(*) FROM dbkit.migrations')" "$f: $n history rows"
	run migrate --dir "$f"
	assert_eq 0 "$RC" "$f: second run exits 0"
	assert_contains "$OUT" "nothing to apply" "$f: second run applies nothing"
	expected=$(cd "$f" && for t in $(python3 -c 'import json,sys; [print(e["tag"]) for e in json.load(open("meta/_journal.json"))["entries"]]'); do sha256sum "$t.sql" | cut -d' ' -f1; done)
	assert_eq "$expected" "$(q 'SELECT hash FROM dbkit.migrations ORDER BY id')" "$f: hashes are sha256 of the files"
	assert_eq "$expected" "$(q 'SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id')" "$f: drizzle's table has the same hashes"
	whens=$(python3 -c 'import json,sys; [print(e["when"]) for e in json.load(open(sys.argv[1]))["entries"]]' "$f/meta/_journal.json")
	assert_eq "$whens" "$(q 'SELECT created_at FROM drizzle.__drizzle_migrations ORDER BY id')" "$f: drizzle's created_at is the journal's when"
done
finish
