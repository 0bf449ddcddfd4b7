#!/usr/bin/env bash
# Issue 17 items 1-5 and issue 11 item 5:
#  1. drizzle's table: any relation by the configured name is checked; only a
#     plain table owned by a trusted role, in a trusted schema, with nothing on
#     it that runs code, is read or written (the view + INSTEAD OF trigger
#     escalation to superuser, and every other shape);
#  2. overloads of dbkit's functions placed by another role: CREATE EXTENSION
#     and dbkit init warn; the client's calls are schema-qualified and typed,
#     and a 42725 names the conflicting functions and their owners;
#  3. a drizzle table configured elsewhere is found and named, with the flags;
#  4. dbkit status without a folder shows a stopped non-transactional migration
#     (text and --json), and swallows only 42501;
#  5. accept-change touches only that migration's row of drizzle's table;
#  11.5 write functions are not PUBLIC; dbkit_grant_deployer(role) grants a
#     deployer what it needs; without it, the message says what to run.
source "$(dirname "$0")/lib.sh"
chmod 755 "$WORK"
cd "$WORK" # no src/db/migrations here: status and drift run without a folder
DBS=(sec_owner_path sec_view sec_shapes sec_overload sec_own_schema sec_elsewhere sec_status sec_accept sec_rename sec_deployer)
ROLES=(dk_evil dk_deployer dk_half dk_reader)
cleanup() {
	local d r
	for d in "${DBS[@]}"; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$d\"" 2>/dev/null || true; done
	for r in "${ROLES[@]}"; do "${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS $r" 2>/dev/null || true; done
}
cleanup
E2E_CLEANUP+=(cleanup)  # lib.sh's exit handler runs it, then removes WORK
"${PSQL[@]}" -d postgres -c "CREATE ROLE dk_evil LOGIN" -c "CREATE ROLE dk_deployer LOGIN" -c "CREATE ROLE dk_half LOGIN" \
	-c "CREATE ROLE dk_reader LOGIN"
as_evil() { psql -X -q -v ON_ERROR_STOP=1 -U dk_evil -d "$PGDATABASE" "$@"; }
is_super() { q "SELECT rolsuper FROM pg_roles WHERE rolname = '$1'"; }
mk_journal() { # DIR TAG...
	local dir=$1
	shift
	python3 - "$dir" "$@" <<'PY'
import json, os, sys
d, tags = sys.argv[1], sys.argv[2:]
os.makedirs(d + "/meta", exist_ok=True)
j = {"version": "7", "dialect": "postgresql",
     "entries": [{"idx": i, "version": "7", "when": 1700000000000 + i, "tag": t, "breakpoints": True} for i, t in enumerate(tags)]}
open(d + "/meta/_journal.json", "w").write(json.dumps(j, indent=2))
PY
}
F=$WORK/m
mkdir -p "$F"
printf 'CREATE TABLE "t1" ("id" integer PRIMARY KEY);\n' >"$F/0000_a.sql"
printf 'CREATE TABLE "t2" ("id" integer PRIMARY KEY);\n' >"$F/0001_b.sql"
mk_journal "$F" 0000_a 0001_b

# ---------------------------------------------------------------------------
# issue 14 item 1: the per-object reference is read and written as the
# extension's owner; an operator on the caller's search_path never runs there
# ---------------------------------------------------------------------------
fresh_db sec_owner_path
run migrate --dir "$F"
assert_eq 0 "$RC" "owner path: migrate ($ERR)"
q "GRANT CREATE ON SCHEMA public TO dk_evil"
q "GRANT pg_monitor TO dk_evil" # a monitoring role may poll drift
as_evil <<'SQL'
CREATE FUNCTION public.escalate() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE dk_evil SUPERUSER';
  END IF;
  RETURN true;
END $$;
CREATE FUNCTION public.text_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM public.escalate(); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE FUNCTION public.int8_eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM public.escalate(); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE FUNCTION public.int8_gt(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM public.escalate(); RETURN $1 OPERATOR(pg_catalog.>) $2; END $$;
CREATE FUNCTION public.oid_eq(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN PERFORM public.escalate(); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.text_eq);
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.int8_eq);
CREATE OPERATOR public.> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.int8_gt);
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = public.oid_eq);
SQL
OWNER_OUT=$(as_evil -c "SET search_path = public, pg_catalog" -c "SELECT count(*) FROM dbkit_drift()" 2>&1 || true)
assert_eq f "$(is_super dk_evil)" "owner path: dbkit_drift() with the caller's operators first on search_path: dk_evil is still not superuser ($OWNER_OUT)"
q "ALTER TABLE t1 ADD COLUMN owner_path int" >/dev/null
OWNER_OUT=$(as_evil -c "SET search_path = public, pg_catalog" -c "SELECT count(*) FROM dbkit_drift()" 2>&1 || true)
assert_eq f "$(is_super dk_evil)" "owner path: the same with drift pending ($OWNER_OUT)"
assert_not_contains "$OWNER_OUT" "permission denied" "owner path: the poll itself runs (pg_monitor)"
q "ALTER ROLE dk_evil NOSUPERUSER" >/dev/null
q "REVOKE pg_monitor FROM dk_evil" >/dev/null

# ---------------------------------------------------------------------------
# 1. the escalation: a view named like drizzle's table, INSTEAD OF INSERT
# ---------------------------------------------------------------------------
fresh_db sec_view
q "GRANT CREATE ON SCHEMA public TO dk_evil"
as_evil <<'SQL'
CREATE VIEW public.__drizzle_migrations AS SELECT 1 AS id, ''::text AS hash, 0::bigint AS created_at;
CREATE FUNCTION public.escalate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE dk_evil SUPERUSER';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER escalate INSTEAD OF INSERT ON public.__drizzle_migrations FOR EACH ROW EXECUTE FUNCTION public.escalate();
SQL
run migrate --dir "$F" --drizzle-schema public
assert_eq 1 "$RC" "view as drizzle's table: migrate refuses (exit 1)"
assert_contains "$ERR" 'drizzle'"'"'s table public.__drizzle_migrations is a view (owner dk_evil), not a plain table' \
	"view as drizzle's table: names the relation, its kind and owner"
assert_contains "$ERR" "--drizzle-schema" "view as drizzle's table: says what to do"
assert_eq f "$(is_super dk_evil)" "view as drizzle's table: dk_evil is still not superuser"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations")" "view as drizzle's table: nothing applied"
assert_eq "" "$(q "SELECT to_regclass('public.t1')")" "view as drizzle's table: t1 not created"
run migrate --dir "$F" --drizzle-schema public --dry-run
assert_eq 1 "$RC" "view as drizzle's table: the dry run refuses too"
assert_eq f "$(is_super dk_evil)" "view as drizzle's table: dk_evil is still not superuser after the dry run"

# ---------------------------------------------------------------------------
# 1. every other shape, one name each, in public (dk_evil may CREATE there)
# ---------------------------------------------------------------------------
fresh_db sec_shapes
q "GRANT CREATE ON SCHEMA public TO dk_evil"
DZ='id serial PRIMARY KEY, hash text NOT NULL, created_at bigint'
as_evil <<SQL
CREATE MATERIALIZED VIEW public.dz_matview AS SELECT 1 AS id, ''::text AS hash, 0::bigint AS created_at;
CREATE SEQUENCE public.dz_sequence;
CREATE TABLE public.dz_evil_owned ($DZ);
CREATE FUNCTION public.evil_f() RETURNS text LANGUAGE plpgsql AS \$\$ BEGIN RAISE WARNING 'HIJACKED as %', current_user; RETURN 'x'; END \$\$;
CREATE FUNCTION public.evil_b(text) RETURNS boolean LANGUAGE plpgsql AS \$\$ BEGIN RAISE WARNING 'HIJACKED as %', current_user; RETURN true; END \$\$;
CREATE FUNCTION public.evil_i(text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS \$\$ BEGIN RAISE WARNING 'HIJACKED as %', current_user; RETURN true; END \$\$;
CREATE DOMAIN public.evil_text AS text CHECK (public.evil_b(VALUE));
SQL
q "CREATE TABLE public.dz_partitioned ($DZ) PARTITION BY RANGE (id)"
q "CREATE TABLE public.dz_parted (id serial, hash text NOT NULL, created_at bigint) PARTITION BY RANGE (id);
   CREATE TABLE public.dz_partition PARTITION OF public.dz_parted FOR VALUES FROM (0) TO (1000000)"
q "CREATE TABLE public.dz_trigger ($DZ); CREATE FUNCTION public.noop() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NEW; END \$\$;
   CREATE TRIGGER noop BEFORE INSERT ON public.dz_trigger FOR EACH ROW EXECUTE FUNCTION public.noop()"
q "CREATE TABLE public.dz_rule ($DZ); CREATE RULE r AS ON INSERT TO public.dz_rule DO ALSO NOTIFY dz"
q "CREATE TABLE public.dz_default (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint, x text DEFAULT public.evil_f())"
q "CREATE TABLE public.dz_check ($DZ, CHECK (public.evil_b(hash)))"
q "CREATE TABLE public.dz_policy ($DZ); ALTER TABLE public.dz_policy ENABLE ROW LEVEL SECURITY;
   CREATE POLICY p ON public.dz_policy USING (public.evil_b(hash))"
q "CREATE TABLE public.dz_domain (id serial PRIMARY KEY, hash public.evil_text NOT NULL, created_at bigint)"
q "CREATE TABLE public.dz_index ($DZ); CREATE INDEX ON public.dz_index (public.evil_i(hash))"
q "CREATE TABLE public.dz_parent ($DZ)"
q "CREATE TABLE public.dz_child () INHERITS (public.dz_parent); ALTER TABLE public.dz_child OWNER TO dk_evil"
q "CREATE SCHEMA evil_ns AUTHORIZATION dk_evil"
shape() { # TABLE NEEDLE [SCHEMA]
	run migrate --dir "$F" --drizzle-schema "${3:-public}" --drizzle-table "$1"
	assert_eq 1 "$RC" "drizzle's table $1: migrate refuses"
	assert_contains "$ERR" "$2" "drizzle's table $1: says why"
	assert_not_contains "$ERR" "HIJACKED" "drizzle's table $1: none of dk_evil's code ran"
	assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations")" "drizzle's table $1: nothing applied"
}
shape dz_matview "is a materialized view (owner dk_evil), not a plain table"
shape dz_sequence "is a sequence (owner dk_evil), not a plain table"
shape dz_partitioned "is a partitioned table (owner "
shape dz_partition "is a partition (owner "
shape dz_evil_owned "public.dz_evil_owned is owned by dk_evil, a role this deploy does not act as"
shape dz_trigger "runs code on dbkit's INSERT or SELECT (trigger noop"
shape dz_rule "runs code on dbkit's INSERT or SELECT (rule r)"
shape dz_default "default value for column x of table public.dz_default calls function public.evil_f()"
shape dz_check "calls function public.evil_b(text)"
shape dz_policy "policy p on table public.dz_policy calls function public.evil_b(text)"
shape dz_domain "column hash of type public.evil_text"
shape dz_index "calls function public.evil_i(text)"
shape dz_parent "has inheritance parents or children"
shape __drizzle_migrations "drizzle's schema evil_ns is owned by dk_evil" evil_ns
assert_eq f "$(is_super dk_evil)" "shapes: dk_evil is still not superuser"
# a control: drizzle's own shape, owned by the deployer, in public, is used
q "CREATE TABLE public.dz_ok ($DZ)"
run migrate --dir "$F" --drizzle-schema public --drizzle-table dz_ok
assert_eq 0 "$RC" "a plain drizzle table in public owned by the deployer is used ($ERR)"
assert_eq 2 "$(q "SELECT count(*) FROM public.dz_ok")" "and written"

# ---------------------------------------------------------------------------
# 2. overloads of dbkit's functions in public
# ---------------------------------------------------------------------------
OVERLOADS=$(
	cat <<'SQL'
CREATE FUNCTION public.dbkit_apply(jsonb, jsonb, int DEFAULT 0) RETURNS TABLE (idx integer, tag text, action text, statements integer, duration_ms double precision, hash text, note text)
  LANGUAGE plpgsql AS $$ BEGIN RAISE WARNING 'HIJACKED dbkit_apply as %', current_user; END $$;
CREATE FUNCTION public.dbkit_drift(int DEFAULT 0) RETURNS TABLE (kind text, object text, change text, detail text, expected jsonb, actual jsonb, audit jsonb)
  LANGUAGE plpgsql AS $$ BEGIN RAISE WARNING 'HIJACKED dbkit_drift as %', current_user; END $$;
CREATE FUNCTION public.dbkit_status(int DEFAULT 0) RETURNS TABLE (tag text) LANGUAGE plpgsql AS $$ BEGIN RAISE WARNING 'HIJACKED dbkit_status as %', current_user; END $$;
CREATE FUNCTION public.dbkit_status(folder text) RETURNS TABLE (tag text) LANGUAGE plpgsql AS $$ BEGIN RAISE WARNING 'HIJACKED dbkit_status(text) as %', current_user; END $$;
SQL
)
# the extension in public, where dk_evil can CREATE: CREATE EXTENSION warns
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS sec_overload" -c "CREATE DATABASE sec_overload"
export PGDATABASE=sec_overload
q "GRANT CREATE ON SCHEMA public TO dk_evil"
CE=$(q "CREATE EXTENSION dbkit" 2>&1)
assert_contains "$CE" "WARNING:  dbkit: roles other than superusers can CREATE in schema public, where dbkit's functions are: dk_evil" \
	"CREATE EXTENSION warns when another role can CREATE in its schema"
assert_contains "$CE" "CREATE EXTENSION dbkit SCHEMA dbkit_api" "and says how to install into a schema of its own"
run init
assert_eq 0 "$RC" "dbkit init on that database exits 0"
assert_contains "$ERR" "can CREATE in schema public, where dbkit's functions are: dk_evil" "dbkit init warns too"
as_evil <<<"$OVERLOADS"
run migrate --dir "$F"
assert_not_contains "$OUT$ERR" "HIJACKED" "overloads: migrate never runs dk_evil's dbkit_apply"
if [[ $RC == 0 ]]; then pass "overloads: migrate still works"; else
	assert_eq 1 "$RC" "overloads: migrate fails with exit 1"
	assert_contains "$ERR" "public.dbkit_apply(jsonb, jsonb, integer) (owner dk_evil)" "overloads: migrate names the conflicting function and its owner"
	assert_contains "$ERR" "DROP FUNCTION public.dbkit_apply(jsonb, jsonb, integer)" "overloads: migrate says what to do"
fi
run drift
assert_not_contains "$OUT$ERR" "HIJACKED" "overloads: drift never runs dk_evil's dbkit_drift"
if [[ $RC == 0 || $RC == 4 ]]; then pass "overloads: drift still works"; else
	assert_eq 1 "$RC" "overloads: drift fails with exit 1"
	assert_contains "$ERR" "public.dbkit_drift(integer) (owner dk_evil)" "overloads: drift names the conflicting function and its owner"
fi
# the README's by-hand call, cast as documented, reaches dbkit's function
BYHAND=$(q "SELECT count(*) FROM dbkit_status('{\"journal\": \"{\\\"entries\\\": []}\", \"files\": {}}'::jsonb)" 2>&1 || true)
assert_not_contains "$BYHAND" "HIJACKED" "overloads: SELECT * FROM dbkit_status('...'::jsonb) does not reach dk_evil's dbkit_status(text)"

# the extension in a schema of its own: the same overloads in public change nothing
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS sec_own_schema" -c "CREATE DATABASE sec_own_schema"
export PGDATABASE=sec_own_schema
q "GRANT CREATE ON SCHEMA public TO dk_evil"
CE=$(q "CREATE SCHEMA dbkit_api; CREATE EXTENSION dbkit SCHEMA dbkit_api" 2>&1)
assert_not_contains "$CE" "WARNING" "CREATE EXTENSION in a schema of its own: no warning"
as_evil <<<"$OVERLOADS"
run migrate --dir "$F"
assert_eq 0 "$RC" "own schema: migrate exits 0 with the overloads in public ($ERR)"
assert_not_contains "$OUT$ERR" "HIJACKED" "own schema: nothing of dk_evil's ran"
q 'CREATE TABLE "drifted" ("id" integer)'
run drift
assert_eq 4 "$RC" "own schema: drift exits 4 with the overloads in public"
assert_not_contains "$OUT$ERR" "HIJACKED" "own schema: drift ran nothing of dk_evil's"

# ---------------------------------------------------------------------------
# 3. drizzle's table configured elsewhere (migrationsSchema 'public',
#    migrationsTable 'my_migrations'): found, named, with the flags
# ---------------------------------------------------------------------------
fresh_db sec_elsewhere
E=$WORK/elsewhere
mkdir -p "$E"
printf 'CREATE TABLE IF NOT EXISTS "seed" ("id" integer);\n--> statement-breakpoint\nINSERT INTO "seed" VALUES (1);\n' >"$E/0000_seed.sql"
printf 'CREATE TABLE IF NOT EXISTS "more" ("id" integer);\n' >"$E/0001_more.sql"
mk_journal "$E" 0000_seed 0001_more
# what drizzle's migrator ran and recorded (its DDL for the table, verbatim)
q 'CREATE TABLE IF NOT EXISTS "seed" ("id" integer); INSERT INTO "seed" VALUES (1); CREATE TABLE IF NOT EXISTS "more" ("id" integer)'
q 'CREATE TABLE IF NOT EXISTS "public"."my_migrations" (
			id SERIAL PRIMARY KEY,
			hash text NOT NULL,
			created_at bigint
		)'
for i in 0 1; do
	f=$(ls "$E"/000${i}_*.sql)
	q "INSERT INTO \"public\".\"my_migrations\" (\"hash\", \"created_at\") VALUES ('$(sha256sum "$f" | cut -d' ' -f1)', 170000000000$i)"
done
run migrate --dir "$E"
assert_eq 1 "$RC" "drizzle's table elsewhere: migrate refuses"
assert_contains "$ERR" "drizzle's table drizzle.__drizzle_migrations does not exist, but public.my_migrations has drizzle's shape and records 2 of this folder's migrations" \
	"drizzle's table elsewhere: names the table it found"
assert_contains "$ERR" "--drizzle-schema public --drizzle-table my_migrations" "drizzle's table elsewhere: gives the flags"
assert_eq 1 "$(q 'SELECT count(*) FROM seed')" "drizzle's table elsewhere: the seed did not go in twice"
run migrate --dir "$E" --drizzle-schema public --drizzle-table my_migrations
assert_eq 0 "$RC" "with the flags: migrate exits 0"
assert_contains "$OUT" "adopted 2 from drizzle" "with the flags: both adopted"
assert_eq 1 "$(q 'SELECT count(*) FROM seed')" "with the flags: the seed is still there once"

# ---------------------------------------------------------------------------
# 4. dbkit status without a folder: a stopped non-transactional migration
# ---------------------------------------------------------------------------
fresh_db sec_status
run migrate --dir "$F"
q "INSERT INTO dbkit.progress (tag, hash, idx, created_at, statements, next_statement, status, error)
   VALUES ('0002_idx', 'abc', 2, 1700000000002, 3, 2, 'failed', 'lock timeout')"
run status
assert_eq 0 "$RC" "status with a stopped migration exits 0"
assert_contains "$OUT" "stopped: non-transactional migration 0002_idx failed at statement 2 of 3: lock timeout" \
	"status (no folder) shows the stopped non-transactional migration"
run status --json
assert_eq "0002_idx failed 2/3 lock timeout" "$(python3 -c 'import json,sys; s=json.load(sys.stdin)["stopped"][0]; print(s["tag"], s["status"], "%d/%d" % (s["next_statement"], s["statements"]), s["error"])' <<<"$OUT")" \
	"status --json lists it under stopped"
# a role that may read the history but not dbkit.progress: the history, no error
"${PSQL[@]}" -d postgres -c "GRANT CONNECT ON DATABASE sec_status TO dk_reader"
q "GRANT USAGE ON SCHEMA dbkit TO dk_reader; GRANT SELECT ON dbkit.migrations TO dk_reader"
PGUSER=dk_reader run status
assert_eq 0 "$RC" "status as a role without SELECT on dbkit.progress exits 0 ($ERR)"
assert_contains "$OUT" "2 migrations recorded" "and shows the history"

# ---------------------------------------------------------------------------
# 5. accept-change with two migrations of identical content
# ---------------------------------------------------------------------------
fresh_db sec_accept
A=$WORK/accept
mkdir -p "$A"
printf 'CREATE TABLE "a" ("id" integer);\n' >"$A/0000_a.sql"
printf 'SELECT 1;\n' >"$A/0001_custom.sql"
printf 'SELECT 1;\n' >"$A/0002_custom.sql"
mk_journal "$A" 0000_a 0001_custom 0002_custom
run migrate --dir "$A"
assert_eq 0 "$RC" "identical custom migrations: applied"
OLD=$(sha256sum "$A/0001_custom.sql" | cut -d' ' -f1)
printf 'SELECT 2;\n' >"$A/0002_custom.sql"
NEW=$(sha256sum "$A/0002_custom.sql" | cut -d' ' -f1)
run accept-change 0002_custom --dir "$A" --reason "edited on purpose"
assert_eq 0 "$RC" "accept-change exits 0 ($ERR)"
assert_eq "1700000000001 $OLD
1700000000002 $NEW" "$(q "SELECT created_at || ' ' || hash FROM drizzle.__drizzle_migrations WHERE created_at > 1700000000000 ORDER BY id")" \
	"accept-change rewrote only 0002_custom's row of drizzle's table"
run migrate --dir "$A"
assert_eq 0 "$RC" "the next migrate exits 0"
assert_not_contains "$ERR" "warning" "the next migrate warns nothing"
assert_eq 3 "$(q "SELECT count(*) FROM drizzle.__drizzle_migrations")" "and adds no row to drizzle's table"

# the same class: a renamed folder (drizzle-kit 1.0 layout) renames only its own row
fresh_db sec_rename
L=$WORK/l10
mkdir -p "$L/20240101000000_a" "$L/20240102000000_b"
printf 'SELECT 1;\n' >"$L/20240101000000_a/migration.sql"
printf 'SELECT 1;\n' >"$L/20240102000000_b/migration.sql"
run migrate --dir "$L"
assert_eq 0 "$RC" "1.0 layout, identical content: applied ($ERR)"
mv "$L/20240102000000_b" "$L/20240102000000_b2"
run migrate --dir "$L"
assert_eq 0 "$RC" "1.0 layout: the renamed folder is followed ($ERR)"
assert_eq "20240101000000_a,20240102000000_b2" "$(q "SELECT string_agg(name, ',' ORDER BY id) FROM drizzle.__drizzle_migrations")" \
	"1.0 layout: only the renamed migration's row of drizzle's table changed its name"

# ---------------------------------------------------------------------------
# 11.5 privileges: dbkit_grant_deployer
# ---------------------------------------------------------------------------
fresh_db sec_deployer
EX=$DBKIT_SRC/examples/migrations
"${PSQL[@]}" -d postgres -c "ALTER DATABASE sec_deployer OWNER TO dk_deployer" -c "GRANT CONNECT ON DATABASE sec_deployer TO dk_half"
assert_eq "" "$(q "SELECT string_agg(p.oid::regprocedure::text, ', ') FROM pg_proc p
  JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'dbkit')
   AND p.proname IN ('dbkit_apply', '_repair', 'dbkit_mark_applied', 'dbkit_baseline', 'dbkit_forget', 'dbkit_accept_change',
                     'dbkit_accept_drift', 'dbkit_nontx_start', 'dbkit_nontx_step', 'dbkit_nontx_finish', 'dbkit_dry_run',
                     'dbkit_grant_deployer')
   AND has_function_privilege('public', p.oid, 'EXECUTE')")" "no function that writes is executable by PUBLIC"
for f in "dbkit_status()" "dbkit_drift()" "dbkit_snapshot()" "dbkit_validate(jsonb,jsonb)" "dbkit_lint(text)"; do
	assert_eq t "$(q "SELECT has_function_privilege('pg_monitor', 'public.$f', 'EXECUTE')")" "pg_monitor may run $f"
done
PGUSER=dk_deployer run migrate --dir "$EX"
assert_eq 1 "$RC" "without the grant: migrate exits 1"
assert_contains "$ERR" "may not take dbkit's deploy lock (it cannot write dbkit's history" "without the grant: says what it lacks"
assert_contains "$ERR" "SELECT public.dbkit_grant_deployer('dk_deployer');" "without the grant: gives the statement that grants it"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations")" "without the grant: nothing applied"
GRANTS=$(psql -X -A -t -q -U dk_deployer -d sec_deployer -c "SELECT dbkit_grant_deployer('dk_deployer')" 2>&1 || true)
assert_contains "$GRANTS" "permission denied for function dbkit_grant_deployer" "the deployer cannot grant itself"
GRANTS=$(q "SELECT dbkit_grant_deployer('dk_deployer')")
assert_contains "$GRANTS" "GRANT EXECUTE ON FUNCTION public.dbkit_apply(jsonb, jsonb) TO dk_deployer" "dbkit_grant_deployer returns what it granted"
PGUSER=dk_deployer run migrate --dir "$EX"
assert_eq 0 "$RC" "with dbkit_grant_deployer only: migrate of the example exits 0 ($ERR)"
assert_contains "$OUT" "applied 5 migrations" "with dbkit_grant_deployer only: all five applied"
assert_eq dk_deployer "$(q "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'drizzle.__drizzle_migrations'::regclass")" \
	"the deployer owns drizzle's table it created"
assert_eq f "$(is_super dk_deployer)" "the deployer is not superuser"
PGUSER=dk_deployer run status --dir "$EX"
assert_eq 0 "$RC" "with the grant: status exits 0"
PGUSER=dk_deployer run drift
assert_eq 0 "$RC" "with the grant: drift exits 0 ($ERR)"
PGUSER=dk_deployer run forget 0004_add_published_to_posts --reason "test"
assert_eq 0 "$RC" "with the grant: forget exits 0 ($ERR)"
q 'ALTER TABLE "posts" DROP COLUMN "published"' # rolled back by hand
PGUSER=dk_deployer run migrate --dir "$EX" --dry-run
assert_eq 0 "$RC" "with the grant: dry run exits 0 ($ERR)"
PGUSER=dk_deployer run migrate --dir "$EX"
assert_eq 0 "$RC" "with the grant: the forgotten migration is applied again ($ERR)"
# EXECUTE granted by hand without the rest: dbkit's own message (the folder is read first: a valid one)
q "GRANT EXECUTE ON FUNCTION dbkit_apply(jsonb, jsonb) TO dk_half"
PAYLOAD=$(python3 -c '
import json, os, sys
d = sys.argv[1]
p = {"journal": open(d + "/meta/_journal.json").read(), "files": {n: open(os.path.join(d, n)).read() for n in os.listdir(d) if n.endswith(".sql")}}
print(json.dumps(p).replace("'"'"'", "'"''"'"))' "$EX")
HALF=$(psql -X -q -U dk_half -d sec_deployer -c "SELECT * FROM dbkit_apply('$PAYLOAD'::jsonb)" 2>&1 || true)
assert_contains "$HALF" "permission denied: role 'dk_half' cannot run dbkit_apply: it lacks USAGE on schema dbkit" \
	"EXECUTE alone: dbkit's own error names what the role lacks"
assert_contains "$HALF" "SELECT public.dbkit_grant_deployer('dk_half');" "EXECUTE alone: and the statement that grants it"
finish
