#!/usr/bin/env bash
# Issue 17 item 9: what dbkit lint used to miss, through PostgreSQL's parser and
# a real catalog: ADD COLUMN ... NOT NULL without a default on a populated
# table, ADD CONSTRAINT ... UNIQUE / PRIMARY KEY / EXCLUDE (not ... USING INDEX),
# serial / identity / GENERATED ... STORED columns, and a 200,000-row table that
# was never analyzed (reltuples = -1), whose lock findings are errors.
source "$(dirname "$0")/lib.sh"
findings() { # json -> "statement severity rule" lines
	python3 -c 'import json, sys
for f in json.loads(sys.argv[1])["findings"]:
    print(f["statement"], f["severity"], f["rule"])' "$1"
}
fresh_db lint_misses
F=$WORK/f
mkdir -p "$F"
printf 'CREATE TABLE "small" ("id" integer PRIMARY KEY, "a" integer);\n--> statement-breakpoint\nCREATE TABLE "big" ("id" integer PRIMARY KEY, "a" integer) WITH (autovacuum_enabled = off);\n' >"$F/0000_tables.sql"
write_journal "$F"
run migrate --dir "$F"
assert_eq 0 "$RC" "setup: tables"
# a bulk load nobody analyzed: reltuples stays -1
q "INSERT INTO small SELECT g, g FROM generate_series(1, 3) g"
q "INSERT INTO big SELECT g, g FROM generate_series(1, 200000) g"
assert_eq "-1" "$(q "SELECT reltuples FROM pg_class WHERE relname = 'big'")" "setup: big was never analyzed"
q "CREATE UNIQUE INDEX small_a_key ON small (a)"

cat >"$F/0001_misses.sql" <<'SQL'
ALTER TABLE "small" ADD COLUMN "must" integer NOT NULL;
--> statement-breakpoint
ALTER TABLE "small" ADD COLUMN "fine" integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE "small" ADD CONSTRAINT "small_id_a_unique" UNIQUE("id","a");
--> statement-breakpoint
ALTER TABLE "small" ADD CONSTRAINT "small_a_unique" UNIQUE USING INDEX "small_a_key";
--> statement-breakpoint
ALTER TABLE "small" ADD CONSTRAINT "small_no_overlap" EXCLUDE USING btree ("a" WITH =);
--> statement-breakpoint
ALTER TABLE "small" ADD COLUMN "s" serial;
--> statement-breakpoint
ALTER TABLE "small" ADD COLUMN "i" integer GENERATED ALWAYS AS IDENTITY;
--> statement-breakpoint
ALTER TABLE "small" ADD COLUMN "g" integer GENERATED ALWAYS AS ("a" * 2) STORED;
--> statement-breakpoint
ALTER TABLE "big" ALTER COLUMN "a" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "big" ADD CONSTRAINT "big_pk2" UNIQUE("a");
--> statement-breakpoint
CREATE TABLE "fresh" ("id" integer);
--> statement-breakpoint
ALTER TABLE "fresh" ADD CONSTRAINT "fresh_pk" PRIMARY KEY("id");
--> statement-breakpoint
ALTER TABLE "fresh" ADD COLUMN "n" integer NOT NULL;
SQL
write_journal "$F"
run lint --dir "$F" --json --info
got=$(findings "$OUT")
has() { # statement severity rule message
	if grep -qx "$1 $2 $3" <<<"$got"; then pass "$4"; else fail "$4: [$1 $2 $3] not in: $got"; fi
}
hasnt() { # statement rule message
	if grep -q "^$1 .* $2\$" <<<"$got"; then fail "$3: found in: $got"; else pass "$3"; fi
}
has 1 error schema.add-not-null-without-default "NOT NULL without a default on a populated table: error"
hasnt 2 schema.add-not-null-without-default "NOT NULL with a default: nothing"
has 3 warning lock.add-unique "ADD CONSTRAINT ... UNIQUE (drizzle-kit's .unique()): warning"
hasnt 4 lock.add-unique "ADD CONSTRAINT ... UNIQUE USING INDEX: nothing"
has 5 warning lock.add-exclude "ADD CONSTRAINT ... EXCLUDE: warning"
has 6 warning lock.add-column-rewrite "ADD COLUMN serial: rewrite"
has 7 warning lock.add-column-rewrite "ADD COLUMN ... GENERATED AS IDENTITY: rewrite"
has 8 warning lock.add-column-rewrite "ADD COLUMN ... GENERATED ... STORED: rewrite"
has 9 error lock.set-not-null "never-analyzed 200,000-row table: SET NOT NULL is an error (rows counted)"
has 10 error lock.add-unique "never-analyzed 200,000-row table: ADD UNIQUE is an error"
hasnt 12 lock.add-primary-key "a table created in the same migration: no finding"
hasnt 13 schema.add-not-null-without-default "a table created in the same migration: no finding"
assert_contains "$OUT" "at least 100000 rows (counted" "the message says the rows were counted"
assert_eq "-1" "$(q "SELECT reltuples FROM pg_class WHERE relname = 'big'")" "lint did not analyze the table"

# Sizing a never-analyzed table runs nobody's code as the caller: a table with row
# security (its policies' functions run as whoever reads it) and a view are sized
# from the catalog, never counted. Found by an attack: a table owner's policy ran
# as the deploying role during dbkit check (here it raises, so a run that reads
# the table fails).
q "DROP ROLE IF EXISTS lm_owner; CREATE ROLE lm_owner; DROP ROLE IF EXISTS lm_deployer; CREATE ROLE lm_deployer LOGIN"
q "SELECT dbkit_grant_deployer('lm_deployer')" >/dev/null
q "CREATE SCHEMA lm AUTHORIZATION lm_owner; GRANT USAGE ON SCHEMA lm TO lm_deployer"
q "SET ROLE lm_owner; CREATE FUNCTION lm.pol() RETURNS boolean LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION 'lm policy ran as %', current_user; END \$\$;
   CREATE TABLE lm.guarded (id integer) WITH (autovacuum_enabled = off); INSERT INTO lm.guarded SELECT g FROM generate_series(1, 20) g;
   ALTER TABLE lm.guarded ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON lm.guarded USING (lm.pol());
   CREATE VIEW lm.shown AS SELECT id, lm.pol() AS ok FROM lm.guarded;
   GRANT SELECT ON lm.guarded, lm.shown TO lm_deployer"
assert_eq "-1" "$(q "SELECT reltuples FROM pg_class WHERE oid = 'lm.guarded'::regclass")" "setup: lm.guarded was never analyzed"
G=$WORK/guarded
mkdir -p "$G"
cp "$F"/0000_tables.sql "$G"/
printf 'ALTER TABLE "lm"."guarded" ADD COLUMN "x" integer;\n--> statement-breakpoint\nALTER VIEW "lm"."shown" RENAME COLUMN "ok" TO "fine";\n' >"$G/0001_guarded.sql"
write_journal "$G"
for cmd in lint check; do
	PGUSER=lm_deployer run $cmd --dir "$G"
	assert_eq 0 "$RC" "$cmd as a deploying role: exit 0"
	assert_not_contains "$OUT$ERR" "lm policy ran" "$cmd as a deploying role: the owner's policy and view code did not run"
	assert_not_contains "$OUT$ERR" "permission denied" "$cmd as a deploying role: read what it needs"
done

# False alarms on the real folders: every migration pending (all severities
# counted, --info). None of them holds what the new rules look for (their NOT
# NULL columns have defaults; serial only in CREATE TABLE), so none may fire.
NEW_RULES="schema.add-not-null-without-default lock.add-unique lock.add-primary-key lock.add-exclude lock.add-column-rewrite"
for dir in "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations" "$DBKIT_SRC/examples/migrations" \
	"$DBKIT_SRC"/tests/check-corpus/clean-*/migrations; do
	fresh_db lint_real
	run lint --dir "$dir" --json --info
	counts=$(python3 -c 'import collections, json, sys
c = collections.Counter(f["rule"] + "/" + f["severity"] for f in json.loads(sys.argv[1])["findings"])
print(" ".join("%s=%d" % kv for kv in sorted(c.items())) or "none")' "$OUT")
	echo "lint on ${dir#"$DBKIT_SRC"/}: $counts"
	for rule in $NEW_RULES; do
		assert_not_contains "$counts" "$rule/" "${dir#"$DBKIT_SRC"/}: no $rule"
	done
done
finish
