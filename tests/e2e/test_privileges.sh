#!/usr/bin/env bash
# Issue 6, item 4: privileges and injection.
#  - a role without the documented grants cannot apply, cannot rewrite history,
#    cannot turn the DDL audit off (before or after the library is loaded);
#  - no function of dbkit that runs user SQL is SECURITY DEFINER;
#  - functions, operators, types and aggregates placed in public, searched
#    before pg_catalog, do not hijack dbkit's internal queries; neither does a
#    drizzle table squatted by another role;
#  - tags, file contents, reasons and drizzle names never reach SQL unquoted;
#  - dbkit's history survives pg_dump/pg_restore.
source "$(dirname "$0")/lib.sh"
chmod 755 "$WORK"
cd "$WORK" # dbkit drift without --dir: no src/db/migrations here
DBS=(priv priv_hijack priv_hijack_fl priv_squat priv_inject priv_inject_fl priv_dump priv_restored)
ROLES=(dk_plain dk_monitor dk_owner dk_attacker)
cleanup() {
	local d r
	for d in "${DBS[@]}"; do "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$d\"" 2>/dev/null || true; done
	for r in "${ROLES[@]}"; do "${PSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS $r" 2>/dev/null || true; done
}
cleanup
E2E_CLEANUP+=(cleanup)
HIJACK_PATH='-c search_path=public,pg_catalog'

# sql_as ROLE DB "sqlstates" NEEDLE SQL: one session as ROLE; the statement ends
# with one of the SQLSTATEs (00000: success) and its output contains NEEDLE.
sql_as() {
	local role=$1 db=$2 states=$3 needle=$4 sql=$5 st w ok=
	set +e
	SQL_OUT=$(psql -X -A -t -q -v ON_ERROR_STOP=0 -U "$role" -d "$db" 2>&1 <<EOF
\\set VERBOSITY verbose
$sql;
\\echo @@SQLSTATE :SQLSTATE
EOF
	)
	set -e
	st=$(sed -n 's/^@@SQLSTATE //p' <<<"$SQL_OUT")
	for w in $states; do [[ $st == "$w" ]] && ok=1; done
	if [[ -n $ok ]]; then pass "as $role: ${sql:0:90}: SQLSTATE $st"; else fail "as $role: $sql: SQLSTATE [$st], expected [$states]: ${SQL_OUT:0:500}"; fi
	[[ -z $needle ]] || assert_contains "$SQL_OUT" "$needle" "as $role: ${sql:0:60}: says so"
}
qd() { "${PSQL[@]}" -d "$1" -c "$2"; } # as the superuser, default search_path
mk_journal() { # DIR TAG...: meta/_journal.json naming the tags in order
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
# F: three migrations; F2: the first two. No operator, no unqualified type name
# in them: what a hijack catches is dbkit's, never the migration's own SQL.
F=$WORK/m
F2=$WORK/m2
mkdir -p "$F" "$F2"
printf 'CREATE TABLE "t1" ("id" integer PRIMARY KEY, "n" varchar(20));\n' >"$F/0000_a.sql"
printf 'CREATE TABLE "t2" ("id" integer PRIMARY KEY);\n' >"$F/0001_b.sql"
printf 'CREATE TABLE "t3" ("id" integer PRIMARY KEY);\n' >"$F/0002_c.sql"
mk_journal "$F" 0000_a 0001_b 0002_c
cp "$F"/0000_a.sql "$F"/0001_b.sql "$F2/"
mk_journal "$F2" 0000_a 0001_b
payload() { python3 -c '
import json, os, sys
d = sys.argv[1]
p = {"journal": open(d + "/meta/_journal.json").read(), "files": {}}
for n in sorted(os.listdir(d)):
    if n.endswith(".sql"):
        p["files"][n] = open(os.path.join(d, n)).read()
print(json.dumps(p))' "$1"; }
PAYLOAD=$(payload "$F")
PAYLOAD_SQL=${PAYLOAD//\'/\'\'}

# ---------------------------------------------------------------------------
# 1. roles without the grants
# ---------------------------------------------------------------------------
case_begin privileges/roles-without-grants
fresh_db priv
run migrate --dir "$F2"
assert_eq 0 "$RC" "setup: the superuser applies 0000_a and 0001_b"
"${PSQL[@]}" -d postgres -c "CREATE ROLE dk_plain LOGIN" -c "GRANT CONNECT, CREATE ON DATABASE priv TO dk_plain" \
	-c "CREATE ROLE dk_monitor LOGIN IN ROLE pg_monitor" -c "GRANT CONNECT ON DATABASE priv TO dk_monitor" \
	-c "CREATE ROLE dk_owner LOGIN" -c "ALTER DATABASE priv OWNER TO dk_owner"
q 'GRANT USAGE, CREATE ON SCHEMA public TO dk_plain'
history() { wait_settled; q "SELECT (SELECT count(*) FROM dbkit.migrations) || '/' || (SELECT count(*) FROM dbkit.events) || '/' ||
  (SELECT count(*) FROM dbkit.snapshots) || '/' || (SELECT md5(string_agg(m::text, '|' ORDER BY id)) FROM dbkit.migrations m) || '/' ||
  (SELECT md5(string_agg(e::text, '|' ORDER BY id)) FROM dbkit.events e) || '/' || coalesce(to_regclass('public.t3')::text, 'no t3') || '/' ||
  (SELECT count(*) FROM drizzle.__drizzle_migrations)"; }
H0=$(history)

# dbkit migrate as each role: a clear permission error, nothing applied
for r in dk_plain dk_monitor dk_owner; do
	PGUSER=$r run migrate --dir "$F"
	assert_eq 1 "$RC" "as $r: dbkit migrate exits 1"
	assert_contains "$ERR" "permission denied" "as $r: dbkit migrate says permission denied"
	assert_eq "$H0" "$(history)" "as $r: nothing applied or recorded"
	PGUSER=$r run forget 0001_b --reason "as $r"
	assert_eq 1 "$RC" "as $r: dbkit forget exits 1"
	assert_contains "$ERR" "permission denied" "as $r: dbkit forget says permission denied"
	PGUSER=$r run mark-applied 0002_c --dir "$F" --reason "as $r"
	assert_eq 1 "$RC" "as $r: dbkit mark-applied exits 1"
	assert_contains "$ERR" "permission denied" "as $r: dbkit mark-applied says permission denied"
	PGUSER=$r run accept-drift --reason "as $r"
	assert_eq 1 "$RC" "as $r: dbkit accept-drift exits 1"
	assert_contains "$ERR" "permission denied" "as $r: dbkit accept-drift says permission denied"
	assert_eq "$H0" "$(history)" "as $r: the refused repairs changed nothing"
done
# history cannot be rewritten directly, nor through the SQL functions
for r in dk_plain dk_monitor dk_owner; do
	for s in "INSERT INTO dbkit.migrations (tag, idx, hash, how) VALUES ('0002_c', 2, 'x', 'applied')" \
		"UPDATE dbkit.migrations SET hash = 'rewritten'" "DELETE FROM dbkit.migrations" \
		"INSERT INTO dbkit.events (action, reason) VALUES ('apply', 'forged')" "UPDATE dbkit.events SET reason = 'rewritten'" \
		"DELETE FROM dbkit.events" "DELETE FROM dbkit.snapshots" "UPDATE dbkit.snapshots SET fingerprint = 'x'" \
		"INSERT INTO dbkit.snapshots (fingerprint, snapshot) VALUES ('x', '{}')" "DELETE FROM dbkit.ddl_audit" \
		"UPDATE dbkit.ddl_audit SET statement = 'nothing to see'" "TRUNCATE dbkit.ddl_audit" "TRUNCATE dbkit.migrations CASCADE" \
		"SELECT pg_catalog.setval('dbkit.events_id_seq', 1)" \
		"SELECT * FROM dbkit_forget('0001_b', 'rolled back')" \
		"SELECT * FROM dbkit_mark_applied('$PAYLOAD_SQL', '0002_c', 'by hand')" \
		"SELECT * FROM dbkit_baseline('$PAYLOAD_SQL', '0002_c', 'baseline')" \
		"SELECT * FROM dbkit_accept_change('$PAYLOAD_SQL', '0001_b', 'accepted')" \
		"SELECT * FROM dbkit._repair('forget', NULL, '0001_b', 'r', '{}')" \
		"SELECT * FROM dbkit_accept_drift('accepted')" "SELECT * FROM dbkit_apply('$PAYLOAD_SQL')" \
		"ALTER TABLE dbkit.migrations DISABLE TRIGGER ALL" "DROP SCHEMA dbkit CASCADE" "DROP EXTENSION dbkit"; do
		sql_as "$r" priv 42501 "" "$s"
	done
done
assert_eq "$H0" "$(history)" "no role rewrote the history"
# pg_monitor reads, as documented
sql_as dk_monitor priv 00000 "2" "SELECT count(*) FROM dbkit_status()"
sql_as dk_monitor priv 00000 "" "SELECT count(*) FROM dbkit_drift()"
sql_as dk_monitor priv 00000 "" "SELECT count(*) FROM dbkit.events"

# The audit cannot be turned off. After the library is loaded (dbkit_lint() loads
# it: a C function any role may call; dbkit_status() is SQL and would not load it):
sql_as dk_plain priv "42501" "permission denied to set parameter \"dbkit.audit\"" \
	"SELECT count(*) FROM dbkit_lint('SELECT 1');
SET dbkit.audit = off"
sql_as dk_plain priv "42501" "permission denied to set parameter \"dbkit.audit\"" \
	"SELECT count(*) FROM dbkit_lint('SELECT 1');
SELECT pg_catalog.set_config('dbkit.audit', 'off', false)"
sql_as dk_plain priv "42501" "permission denied to set parameter \"dbkit.audit\"" \
	"SELECT count(*) FROM dbkit_lint('SELECT 1');
BEGIN;
SET LOCAL dbkit.audit = off"
sql_as dk_plain priv "00000" "" "SELECT count(*) FROM dbkit_lint('SELECT 1');
SET dbkit.audit = off;
CREATE TABLE public.dk_loaded_then_set (i integer)"
# In a fresh session, before anything loads it: PostgreSQL accepts the SET as a
# placeholder, then rejects it with a WARNING when the library loads (here: the
# DDL fires dbkit's event trigger), so the DDL is still recorded.
sql_as dk_plain priv "00000" "off" "SET dbkit.audit = off;
SHOW dbkit.audit"
sql_as dk_plain priv "00000" "permission denied to set parameter \"dbkit.audit\"" "SET dbkit.audit = off;
CREATE TABLE public.dk_placeholder (i integer);
SHOW dbkit.audit"
assert_contains "$SQL_OUT" $'\non' "placeholder set before the library loads: dbkit.audit is on once it is loaded"
PGOPTIONS='-c dbkit.audit=off' sql_as dk_plain priv "00000" "" "CREATE TABLE public.dk_pgoptions (i integer)"
sql_as dk_plain priv 42501 "permission denied to set parameter" "ALTER ROLE dk_plain SET dbkit.audit = off"
sql_as dk_owner priv 42501 "permission denied to set parameter" "ALTER DATABASE priv SET dbkit.audit = off"
for r in dk_plain dk_owner; do
	sql_as "$r" priv 42501 "" "ALTER EVENT TRIGGER dbkit_audit_ddl DISABLE"
	sql_as "$r" priv 42501 "" "DROP EVENT TRIGGER dbkit_audit_drop"
	sql_as "$r" priv 42501 "" "SET session_replication_role = replica"
	sql_as "$r" priv 42501 "" "ALTER EXTENSION dbkit DROP EVENT TRIGGER dbkit_audit_ddl"
done
assert_contains "$(PGOPTIONS='-c session_replication_role=replica' psql -X -U dk_plain -d priv -c "SELECT 1" 2>&1 || true)" \
	"permission denied to set parameter \"session_replication_role\"" "as dk_plain: cannot connect with session_replication_role=replica (event triggers off)"
assert_eq 3 "$(q "SELECT count(*) FROM dbkit.ddl_audit WHERE session_user_name = 'dk_plain' AND object_identity IN
  ('public.dk_loaded_then_set', 'public.dk_placeholder', 'public.dk_pgoptions')")" "every DDL of dk_plain is in dbkit.ddl_audit"

# ---------------------------------------------------------------------------
# 2. SECURITY DEFINER: only the two audit functions, which run no user SQL
# ---------------------------------------------------------------------------
case_begin privileges/security-definer
EXT_FUNCS="SELECT p.oid::regprocedure::text || CASE WHEN p.prosecdef THEN ' SECURITY DEFINER' ELSE '' END ||
  coalesce(' SET ' || array_to_string(p.proconfig, ', '), '')
  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'dbkit') ORDER BY 1"
echo "functions of the extension:"
q "$EXT_FUNCS" | sed 's/^/  /'
assert_eq "dbkit._audit_ddl()
dbkit._audit_drop()" "$(q "SELECT p.oid::regprocedure FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'dbkit') AND p.prosecdef ORDER BY 1")" \
	"only dbkit._audit_ddl and dbkit._audit_drop are SECURITY DEFINER"
assert_eq "2" "$(q "SELECT count(*) FROM pg_proc WHERE oid IN ('dbkit._audit_ddl()'::regprocedure, 'dbkit._audit_drop()'::regprocedure)
  AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp']")" "both pin search_path to pg_catalog, pg_temp"

# ---------------------------------------------------------------------------
# 3. hijacking dbkit's internal queries from public (searched before pg_catalog)
# ---------------------------------------------------------------------------
case_begin privileges/hijack
# dk_attacker can create objects in public. Every object logs (WARNING
# 'HIJACKED ...' once per transaction and kind, a row in public.hijack_log with
# the internal query that reached it) and returns the right answer, so that a
# hijack shows without changing results. The deployer is the superuser with
# search_path = public, pg_catalog. Targets, from extension/*.cpp and the client:
#   =(name,text), >(smallint,integer)  DrizzleTable::detect: n.nspname = $1, a.attnum > 0 (history.cpp)
#   =("char","char")                   detect: c.relkind IN ('r', 'p')
#   =(text,text)                       forget: DELETE ... WHERE tag = $1 (repair.cpp); rename, rehash, remove (history.cpp)
#   <=(bigint,bigint), -(bigint,int), max(bigint)
#                                      store_reference: DELETE FROM dbkit.snapshots WHERE id <= (SELECT max(id) - 10 ...)
#   count(*)                           dbkit_accept_drift: (SELECT count(*) FROM jsonb_object_keys(snapshot))
#   =(jsonb,jsonb), >=(timestamptz,timestamptz), type timestamptz
#                                      dbkit_drift: a.value IS DISTINCT FROM b.value; at >= $1::timestamptz (drift.cpp)
#   type text                          ::text casts: read_history/DrizzleTable::read (hash::text, name::text),
#                                      md5(s::text) (reference_store.cpp), drift, and the drizzle table's "hash text" column
#   type jsonb                         $4::jsonb (HistoryWriter), the client's $1::jsonb
#   now()                              DrizzleTable::ensure: applied_at ... DEFAULT now() (drizzle 1.0 shape)
#   =(oid,oid), =(name,name)           the client's extension lookup (session.cpp)
# and, as controls, functions dbkit calls schema-qualified (expected never hit):
#   md5(text), current_setting(text), clock_timestamp(), quote_ident(text),
#   jsonb_each(jsonb), pg_backend_pid(), current_query()
ATTACK_SQL=$(
	cat <<'SQL'
CREATE TABLE public.hijack_log (what pg_catalog.text, by_user pg_catalog.text, context pg_catalog.text);
GRANT INSERT, SELECT ON public.hijack_log TO PUBLIC;
CREATE FUNCTION public.hj(what pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE ctx pg_catalog.text; seen pg_catalog.text;
BEGIN
  GET DIAGNOSTICS ctx = PG_CONTEXT;
  INSERT INTO public.hijack_log VALUES (what, current_user, ctx);
  seen := COALESCE(pg_catalog.current_setting('hijack.seen', true), '');
  IF pg_catalog.strpos(seen, what) OPERATOR(pg_catalog.=) 0 THEN
    RAISE WARNING 'HIJACKED % (running as %)', what, current_user;
    PERFORM pg_catalog.set_config('hijack.seen', seen OPERATOR(pg_catalog.||) what, true);
  END IF;
  RETURN true;
END $$;
CREATE FUNCTION public.md5(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('md5(text)'); RETURN pg_catalog.md5($1); END $$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('clock_timestamp()'); RETURN pg_catalog.clock_timestamp(); END $$;
CREATE FUNCTION public.quote_ident(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('quote_ident(text)'); RETURN pg_catalog.quote_ident($1); END $$;
CREATE FUNCTION public.current_setting(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('current_setting(text)'); RETURN pg_catalog.current_setting($1); END $$;
CREATE FUNCTION public.pg_backend_pid() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('pg_backend_pid()'); RETURN pg_catalog.pg_backend_pid(); END $$;
CREATE FUNCTION public.current_query() RETURNS pg_catalog.text LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('current_query()'); RETURN pg_catalog.current_query(); END $$;
CREATE FUNCTION public.jsonb_each(pg_catalog.jsonb, OUT key pg_catalog.text, OUT value pg_catalog.jsonb) RETURNS SETOF record LANGUAGE plpgsql AS $$
  BEGIN PERFORM public.hj('jsonb_each(jsonb)'); RETURN QUERY SELECT * FROM pg_catalog.jsonb_each($1); END $$;
CREATE FUNCTION public.hj_eq_name_text(name, pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('=(name,text)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = pg_catalog.text, FUNCTION = public.hj_eq_name_text);
CREATE FUNCTION public.hj_eq_name(name, name) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('=(name,name)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = name, RIGHTARG = name, FUNCTION = public.hj_eq_name);
CREATE FUNCTION public.hj_eq_char(pg_catalog."char", pg_catalog."char") RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('=("char","char")'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = pg_catalog."char", RIGHTARG = pg_catalog."char", FUNCTION = public.hj_eq_char);
CREATE FUNCTION public.hj_eq_text(pg_catalog.text, pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('=(text,text)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = pg_catalog.text, RIGHTARG = pg_catalog.text, FUNCTION = public.hj_eq_text);
CREATE FUNCTION public.hj_gt_i2i4(smallint, integer) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('>(smallint,integer)'); RETURN $1 OPERATOR(pg_catalog.>) $2; END $$;
CREATE OPERATOR public.> (LEFTARG = smallint, RIGHTARG = integer, FUNCTION = public.hj_gt_i2i4);
CREATE FUNCTION public.hj_le_i8(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('<=(bigint,bigint)'); RETURN $1 OPERATOR(pg_catalog.<=) $2; END $$;
CREATE OPERATOR public.<= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.hj_le_i8);
CREATE FUNCTION public.hj_minus_i8i4(bigint, integer) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('-(bigint,integer)'); RETURN $1 OPERATOR(pg_catalog.-) $2; END $$;
CREATE OPERATOR public.- (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = public.hj_minus_i8i4);
CREATE FUNCTION public.hj_eq_jsonb(pg_catalog.jsonb, pg_catalog.jsonb) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('=(jsonb,jsonb)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = pg_catalog.jsonb, RIGHTARG = pg_catalog.jsonb, FUNCTION = public.hj_eq_jsonb);
CREATE FUNCTION public.hj_ge_tstz(pg_catalog.timestamptz, pg_catalog.timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('>=(timestamptz,timestamptz)'); RETURN $1 OPERATOR(pg_catalog.>=) $2; END $$;
CREATE OPERATOR public.>= (LEFTARG = pg_catalog.timestamptz, RIGHTARG = pg_catalog.timestamptz, FUNCTION = public.hj_ge_tstz);
CREATE FUNCTION public.hj_eq_oid(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('=(oid,oid)'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = public.hj_eq_oid);
CREATE FUNCTION public.hj_max_sf(bigint, bigint) RETURNS bigint LANGUAGE plpgsql AS $$
  BEGIN PERFORM public.hj('max(bigint)'); RETURN CASE WHEN $1 IS NULL OR $2 OPERATOR(pg_catalog.>) $1 THEN $2 ELSE $1 END; END $$;
CREATE AGGREGATE public.max(bigint) (SFUNC = public.hj_max_sf, STYPE = bigint);
CREATE FUNCTION public.hj_count_sf(bigint) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj('count(*)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE public.count(*) (SFUNC = public.hj_count_sf, STYPE = bigint, INITCOND = '0');
CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.hj('type text'));
CREATE DOMAIN public.jsonb AS pg_catalog.jsonb CHECK (public.hj('type jsonb'));
CREATE DOMAIN public.timestamptz AS pg_catalog.timestamptz CHECK (public.hj('type timestamptz'));
SQL
)
# hijacked LABEL: fails if the last client run printed HIJACKED
hijacked() {
	if [[ $OUT$ERR == *HIJACKED* ]]; then
		fail "$1: hijacked: $(grep -o 'HIJACKED [^(]*' <<<"$OUT$ERR" | sort -u | tr '\n' ';')"
	else
		pass "$1: not hijacked"
	fi
}
hijack_report() { # DB: the internal queries reached, from the log
	local n
	n=$(qd "$1" "SELECT count(*) FROM public.hijack_log")
	if [[ $n == 0 ]]; then
		pass "$1: public.hijack_log is empty"
	else
		fail "$1: $n calls reached the attacker's objects, running as $(qd "$1" "SELECT string_agg(DISTINCT by_user, ',') FROM public.hijack_log"):"
		qd "$1" "SELECT DISTINCT what || '  <-  ' || coalesce(
		    (SELECT left(m[1], 170) FROM regexp_matches(context, 'SQL statement \"([^\"]+)', 'g') m WHERE m[1] NOT LIKE '%public.hj(%' LIMIT 1),
		    '(a top-level query, the client''s own: ' || left(replace(context, E'\\n', ' '), 100) || ')')
		  FROM public.hijack_log ORDER BY 1" | sed 's/^/    /' >&2
	fi
}
attack_db() { # DB: a database with the extension and dk_attacker's objects in public
	fresh_db "$1"
	qd "$1" "GRANT USAGE, CREATE ON SCHEMA public TO dk_attacker"
	qd "$1" "GRANT CONNECT, CREATE ON DATABASE \"$1\" TO dk_attacker"
	psql -X -q -v ON_ERROR_STOP=1 -U dk_attacker -d "$1" <<<"$ATTACK_SQL"
}
"${PSQL[@]}" -d postgres -c "CREATE ROLE dk_attacker LOGIN"
attack_db priv_hijack
deploy() { PGOPTIONS=$HIJACK_PATH run "$@"; }
deploy migrate --dir "$F2"
assert_eq 0 "$RC" "hijack: migrate exits 0"
assert_contains "$OUT" "applied 2 migrations" "hijack: migrate applies 0000_a and 0001_b"
hijacked "hijack: dbkit migrate"
deploy status --dir "$F"
assert_eq 0 "$RC" "hijack: status exits 0"
assert_contains "$OUT" "3 migrations in $F: 2 applied, 1 pending" "hijack: status is right"
hijacked "hijack: dbkit status"
deploy check --dir "$F"
assert_eq 0 "$RC" "hijack: check exits 0"
hijacked "hijack: dbkit check"
qd priv_hijack 'CREATE TABLE "t3" ("id" integer PRIMARY KEY)'
deploy mark-applied 0002_c --dir "$F" --reason "made by hand"
assert_eq 0 "$RC" "hijack: mark-applied exits 0"
hijacked "hijack: dbkit mark-applied"
deploy forget 0002_c --reason "rolled back by hand"
assert_eq 0 "$RC" "hijack: forget exits 0"
assert_eq "0000_a,0001_b" "$(qd priv_hijack "SELECT string_agg(tag, ',' ORDER BY id) FROM dbkit.migrations")" "hijack: forget removed only 0002_c"
hijacked "hijack: dbkit forget"
qd priv_hijack 'DROP TABLE "t3"'
# with --backup: the client's check for pending work once compared with a bare IN (found by an attack)
mkdir -p "$WORK/hj_backup"
deploy migrate --dir "$F" --backup "$WORK/hj_backup"
assert_eq 0 "$RC" "hijack: migrate --backup of 0002_c exits 0${ERR:+: $ERR}"
hijacked "hijack: dbkit migrate --backup (0002_c)"
printf -- '-- reviewed\n' >>"$F/0002_c.sql"
deploy accept-change 0002_c --dir "$F" --reason "comment only"
assert_eq 0 "$RC" "hijack: accept-change exits 0"
hijacked "hijack: dbkit accept-change"
deploy baseline 0002_c --dir "$F"
assert_eq 0 "$RC" "hijack: baseline exits 0"
hijacked "hijack: dbkit baseline"
qd priv_hijack 'CREATE TABLE "outside" ("id" integer)'
deploy drift
assert_eq 4 "$RC" "hijack: drift finds the table made outside"
assert_contains "$OUT" "outside" "hijack: drift names it"
hijacked "hijack: dbkit drift"
deploy accept-drift --reason "outside is fine"
assert_eq 0 "$RC" "hijack: accept-drift exits 0"
hijacked "hijack: dbkit accept-drift"
deploy drift
assert_eq 0 "$RC" "hijack: no drift after accept-drift"
hijacked "hijack: dbkit drift (clean)"
PGOPTIONS=$HIJACK_PATH sql_as postgres priv_hijack 00000 "" "SELECT pg_catalog.count(*) FROM dbkit_validate('$PAYLOAD_SQL')"
[[ $SQL_OUT != *HIJACKED* ]] && pass "hijack: dbkit_validate not hijacked" || fail "hijack: dbkit_validate hijacked: $(grep -o 'HIJACKED [^(]*' <<<"$SQL_OUT" | sort -u | tr '\n' ';')"
PGOPTIONS=$HIJACK_PATH sql_as postgres priv_hijack 00000 "" "SELECT pg_catalog.count(*) FROM dbkit_status('$PAYLOAD_SQL')"
[[ $SQL_OUT != *HIJACKED* ]] && pass "hijack: dbkit_status(folder) not hijacked" || fail "hijack: dbkit_status(folder) hijacked: $(grep -o 'HIJACKED [^(]*' <<<"$SQL_OUT" | sort -u | tr '\n' ';')"
# what dbkit left behind must not depend on the attacker's objects (drizzle's
# table is created by dbkit_apply under the caller's search_path)
assert_eq "" "$(qd priv_hijack "SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ')
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'drizzle.__drizzle_migrations'::regclass AND a.attnum > 0
   AND (t.typnamespace = 'public'::regnamespace OR pg_get_expr(d.adbin, d.adrelid) LIKE '%public.%')")" \
	"hijack: drizzle.__drizzle_migrations uses no type or default from public"
hijack_report priv_hijack
qd priv_hijack "TRUNCATE public.hijack_log"

# Destructive variants: the attacker's operators now answer wrongly.
# =(text,text) always true: forget must still drop only its own row
psql -X -q -U dk_attacker -d priv_hijack -c 'CREATE OR REPLACE FUNCTION public.hj_eq_text(pg_catalog.text, pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj($q$=(text,text) always true$q$); RETURN true; END $$'
deploy forget 0002_c --reason "rolled back again"
assert_eq 0 "$RC" "hijack: forget with =(text,text) always true exits 0"
assert_eq "0000_a,0001_b" "$(qd priv_hijack "SELECT string_agg(tag, ',' ORDER BY id) FROM dbkit.migrations")" "hijack: with =(text,text) always true, forget still drops only 0002_c"
hijacked "hijack: dbkit forget (=(text,text) always true)"
psql -X -q -U dk_attacker -d priv_hijack -c 'CREATE OR REPLACE FUNCTION public.hj_eq_text(pg_catalog.text, pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj($q$=(text,text)$q$); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$'
# =(jsonb,jsonb) always true: drift must still see a change
psql -X -q -U dk_attacker -d priv_hijack -c 'CREATE OR REPLACE FUNCTION public.hj_eq_jsonb(pg_catalog.jsonb, pg_catalog.jsonb) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj($q$=(jsonb,jsonb) always true$q$); RETURN true; END $$'
qd priv_hijack 'CREATE TABLE "drifted" ("id" integer)'
deploy drift
assert_eq 4 "$RC" "hijack: with =(jsonb,jsonb) always true, drift still finds the new table"
hijacked "hijack: dbkit drift (=(jsonb,jsonb) always true)"
# <=(bigint,bigint) always true: the snapshot pruning must keep the new snapshot
psql -X -q -U dk_attacker -d priv_hijack -c 'CREATE OR REPLACE FUNCTION public.hj_le_i8(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj($q$<=(bigint,bigint) always true$q$); RETURN true; END $$'
deploy accept-drift --reason "drifted is fine"
assert_eq 0 "$RC" "hijack: accept-drift with <=(bigint,bigint) always true exits 0"
hijacked "hijack: dbkit accept-drift (<=(bigint,bigint) always true)"
assert_eq 1 "$(qd priv_hijack "SELECT (count(*) > 0)::int FROM dbkit.snapshots")" "hijack: with <=(bigint,bigint) always true, a snapshot is still recorded"
hijack_report priv_hijack

# The drizzle-kit 1.0 layout: drizzle's table gets applied_at DEFAULT now()
attack_db priv_hijack_fl
FL=$WORK/fl
mkdir -p "$FL/20240101000000_init"
printf 'CREATE TABLE "fl_t" ("id" integer PRIMARY KEY);\n' >"$FL/20240101000000_init/migration.sql"
PGDATABASE=priv_hijack_fl deploy migrate --dir "$FL"
assert_eq 0 "$RC" "hijack (1.0 layout): migrate exits 0"
hijacked "hijack (1.0 layout): dbkit migrate"
assert_eq "" "$(qd priv_hijack_fl "SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ')
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = 'drizzle.__drizzle_migrations'::regclass AND a.attnum > 0
   AND (t.typnamespace = 'public'::regnamespace OR pg_get_expr(d.adbin, d.adrelid) LIKE '%public.%')")" \
	"hijack (1.0 layout): drizzle's table uses no type or default from public (applied_at DEFAULT now())"
hijack_report priv_hijack_fl

# A user's own call with the default search_path: dbkit lives in public, where
# dk_attacker can add a closer overload (text beats jsonb for an unknown literal).
psql -X -q -U dk_attacker -d priv_hijack -c 'CREATE FUNCTION public.dbkit_apply(folder pg_catalog.text)
  RETURNS TABLE (idx integer, tag pg_catalog.text, action pg_catalog.text, statements integer, duration_ms double precision, hash pg_catalog.text, note pg_catalog.text)
  LANGUAGE plpgsql AS $$ BEGIN PERFORM public.hj($q$dbkit_apply(text)$q$); END $$'
qd priv_hijack "TRUNCATE public.hijack_log"
sql_as postgres priv_hijack "00000" "" "SELECT count(*) FROM dbkit_apply('$PAYLOAD_SQL')"
# Not preventable from inside the extension: PostgreSQL resolves a person's own
# unqualified call in a schema others can write to. The README's Privileges section
# says to install dbkit in a schema of its own then; the client always calls
# dbkit's functions schema-qualified with typed arguments, which this cannot hijack.
# Asserted as the documented limitation (README, Privileges and safety): if this ever stops
# resolving to the overload, the README's advice can be revisited. The remedy is tested in
# tests/e2e/test_promises.sh, case privileges/extension-in-own-schema.
assert_contains "$SQL_OUT" "HIJACKED dbkit_apply(text)" \
	"with CREATE on public granted to others, an unqualified dbkit_apply('<literal>') typed by hand resolves to their overload (why README says: install dbkit in its own schema)"

# A drizzle table squatted by another role: a role with CREATE on the database
# creates schema drizzle before the first deploy, with a trigger (run as the
# deployer) and a row that makes dbkit adopt 0000_a without running it.
fresh_db priv_squat
"${PSQL[@]}" -d postgres -c "GRANT CONNECT, CREATE ON DATABASE priv_squat TO dk_plain"
psql -X -q -v ON_ERROR_STOP=1 -U dk_plain -d priv_squat <<SQL
CREATE SCHEMA drizzle;
CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint);
CREATE FUNCTION drizzle.on_insert() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
  RAISE WARNING 'HIJACKED drizzle trigger (running as %)', current_user;
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE dk_plain SUPERUSER';
  END IF;
  RETURN NEW;
END \$\$;
INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('$(sha256sum "$F/0000_a.sql" | cut -d' ' -f1)', 1700000000000);
CREATE TRIGGER on_insert BEFORE INSERT ON drizzle.__drizzle_migrations FOR EACH ROW EXECUTE FUNCTION drizzle.on_insert();
SQL
PGDATABASE=priv_squat run migrate --dir "$F"
assert_eq 1 "$RC" "squatted drizzle table: dbkit migrate exits 1"
assert_contains "$ERR" "a role this deploy does not act as" \
	"squatted drizzle table: refused, naming the table's owner"
assert_eq 0 "$(qd priv_squat "SELECT count(*) FROM dbkit.migrations")" "squatted drizzle table: nothing applied or recorded"
hijacked "squatted drizzle table: dbkit migrate"
assert_eq f "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = 'dk_plain'")" "squatted drizzle table: dk_plain did not become superuser"
q "ALTER ROLE dk_plain NOSUPERUSER"
assert_eq 0 "$(qd priv_squat "SELECT count(*) FROM dbkit.migrations WHERE how = 'adopted'")" \
	"squatted drizzle table: nothing adopted from a table dk_plain wrote (dbkit refuses to trust it)"

# ---------------------------------------------------------------------------
# 4. tags, contents, reasons and drizzle names are data, never SQL
# ---------------------------------------------------------------------------
case_begin privileges/injection
fresh_db priv_inject
q 'CREATE TABLE victim (id integer)'
I=$WORK/inject
mkdir -p "$I"
T0="0000_x\"; DROP TABLE victim; --'"
T1='0001_$$; DROP TABLE victim; $$'
T2="0002_') OR 1=1; SELECT pg_sleep(10); --"
printf 'CREATE TABLE "we""ird'"'"'; DROP TABLE victim; --" ("id" integer);\n--> statement-breakpoint\nCOMMENT ON TABLE "we""ird'"'"'; DROP TABLE victim; --" IS '"'"'it'"''"'s; DROP TABLE victim; --'"'"';\n' >"$I/$T0.sql"
printf 'CREATE TABLE "t_$1" ("v" varchar(40) DEFAULT '"'"'$$; DROP TABLE victim; $$'"'"');\n' >"$I/$T1.sql"
printf 'SELECT 1;\n' >"$I/$T2.sql"
mk_journal "$I" "$T0" "$T1" "$T2"
DZS='dz"; DROP TABLE victim; --'
DZT="t'); DROP TABLE victim; --"
run migrate --dir "$I" --drizzle-schema "$DZS" --drizzle-table "$DZT"
assert_eq 0 "$RC" "injection: migrate exits 0 ($ERR)"
assert_contains "$OUT" "applied 3 migrations" "injection: applies the three migrations"
assert_eq victim "$(q "SELECT to_regclass('public.victim')")" "injection: victim survives"
assert_eq "$T0
$T1
$T2" "$(q "SELECT string_agg(tag, E'\n' ORDER BY id) FROM dbkit.migrations")" "injection: tags recorded verbatim"
assert_eq "it's; DROP TABLE victim; --" "$(q "SELECT obj_description(to_regclass(quote_ident('we\"ird''; DROP TABLE victim; --')), 'pg_class')")" "injection: the file's quotes kept"
assert_eq "\$\$; DROP TABLE victim; \$\$" "$(q "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 't_\$1'::regclass" | sed "s/^'\(.*\)'::character varying\$/\1/")" "injection: dollar quotes kept as data"
assert_eq "$(for f in "$T0" "$T1" "$T2"; do sha256sum "$I/$f.sql" | cut -d' ' -f1; done)" \
	"$(q "SELECT string_agg(hash, E'\n' ORDER BY id) FROM $(q "SELECT quote_ident('$DZS') || '.' || quote_ident('${DZT//\'/\'\'}')")")" \
	"injection: drizzle's table created with the quoted names holds the three hashes"
run status --dir "$I"
assert_eq 0 "$RC" "injection: status exits 0"
assert_contains "$OUT" "$T0" "injection: status shows the tag verbatim"
run check --dir "$I"
assert_eq 0 "$RC" "injection: check exits 0"
R1="'); DROP TABLE victim; --"
run forget "$T2" --reason "$R1"
assert_eq 0 "$RC" "injection: forget with a hostile tag and reason exits 0"
run mark-applied "$T2" --dir "$I" --reason "\"; DROP TABLE victim; --" --drizzle-schema "$DZS" --drizzle-table "$DZT"
assert_eq 0 "$RC" "injection: mark-applied with a hostile tag and reason exits 0"
printf -- "-- it's; DROP TABLE victim; --\n" >>"$I/$T0.sql"
run accept-change "$T0" --dir "$I" --reason "\$\$; DROP TABLE victim; \$\$" --drizzle-schema "$DZS" --drizzle-table "$DZT"
assert_eq 0 "$RC" "injection: accept-change with a hostile tag and reason exits 0"
assert_eq "$R1|$T2
\"; DROP TABLE victim; --|$T2
\$\$; DROP TABLE victim; \$\$|$T0" "$(q "SELECT string_agg(reason || '|' || tag, E'\n' ORDER BY id) FROM dbkit.events WHERE action <> 'apply'")" "injection: reasons and tags recorded verbatim"
assert_eq victim "$(q "SELECT to_regclass('public.victim')")" "injection: victim survives the repairs"
# the drizzle-kit 1.0 layout: the folder name is the tag
fresh_db priv_inject_fl
q 'CREATE TABLE victim (id integer)'
IF1=$WORK/inject_fl
TF="20240101000000_x'; DROP TABLE victim; --"
mkdir -p "$IF1/$TF"
printf 'CREATE TABLE "fl_t" ("id" integer);\n' >"$IF1/$TF/migration.sql"
run migrate --dir "$IF1"
assert_eq 0 "$RC" "injection (1.0 layout): migrate exits 0 ($ERR)"
assert_eq "$TF" "$(q "SELECT tag FROM dbkit.migrations")" "injection (1.0 layout): the folder name recorded verbatim"
assert_eq "$TF" "$(q "SELECT name FROM drizzle.__drizzle_migrations")" "injection (1.0 layout): and in drizzle's table"
assert_eq victim "$(q "SELECT to_regclass('public.victim')")" "injection (1.0 layout): victim survives"

# ---------------------------------------------------------------------------
# 5. pg_dump / pg_restore keep the history
# ---------------------------------------------------------------------------
case_begin privileges/dump-restore
fresh_db priv_dump
D=$WORK/saas
copy_fixture "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations" "$D"
run migrate --dir "$D"
assert_eq 0 "$RC" "dump: the fixture is applied"
q 'CREATE TABLE "outside" ("id" integer)'
run accept-drift --reason "outside is fine"
run forget 0008_add_updated_at_trigger --reason "rolled back by hand"
q 'DROP TRIGGER "users_set_updated_at" ON "users"; DROP TRIGGER "posts_set_updated_at" ON "posts"; DROP FUNCTION "set_updated_at"()'
run migrate --dir "$D"
assert_eq 0 "$RC" "dump: 0008 applied again"
rows() { # DB TABLE: every row, in order, as one digest
	"${PSQL[@]}" -d "$1" -c "SELECT count(*) || ' rows, ' || md5(coalesce(string_agg(t::text, E'\n' ORDER BY id), '')) FROM $2 t"
}
set +e
pg_dump -Fc -d priv_dump -f "$WORK/priv_dump.dump" 2>"$WORK/dump.err"
assert_eq 0 "$?" "dump: pg_dump -Fc exits 0 ($(cat "$WORK/dump.err"))"
"${PSQL[@]}" -d postgres -c 'CREATE DATABASE priv_restored'
pg_restore -d priv_restored "$WORK/priv_dump.dump" 2>"$WORK/restore.err"
assert_eq 0 "$?" "dump: pg_restore exits 0"
set -e
assert_eq "" "$(cat "$WORK/restore.err")" "dump: pg_restore prints no error"
for t in dbkit.migrations dbkit.events dbkit.snapshots dbkit.ddl_audit drizzle.__drizzle_migrations; do
	assert_eq "$(rows priv_dump $t)" "$(rows priv_restored $t)" "dump: $t survives identically"
done
for s in events_id_seq migrations_id_seq snapshots_id_seq; do
	assert_eq "$(qd priv_dump "SELECT last_value FROM dbkit.$s")" "$(qd priv_restored "SELECT last_value FROM dbkit.$s")" "dump: dbkit.$s continues where it was"
done
PGDATABASE=priv_restored run migrate --dir "$D"
assert_eq 0 "$RC" "restored: migrate exits 0"
assert_contains "$OUT" "nothing to apply: 9 migrations already applied" "restored: migrate applies nothing"
PGDATABASE=priv_restored run drift
assert_eq 0 "$RC" "restored: no drift"
PGDATABASE=priv_restored run accept-drift --reason "after restore"
assert_eq 0 "$RC" "restored: a new event is recorded after the restored ones"
assert_eq "$(($(qd priv_dump "SELECT max(id) FROM dbkit.events") + 1))" "$(qd priv_restored "SELECT max(id) FROM dbkit.events")" "restored: event ids continue"
# A migration that acts on every function of public (tambo-ai/tambo's 0015: GRANT EXECUTE on
# each routine of public and extensions) reaches dbkit's own there: the failure says so, and how
# to leave them out, rather than only "fix the file".
fresh_db priv_allfn
G=$WORK/allfn
mkdir -p "$G"
cat >"$G/0000_grant_all.sql" <<'SQL'
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT n.nspname AS s, p.proname AS f, pg_get_function_identity_arguments(p.oid) AS a
               FROM pg_proc p JOIN pg_namespace n ON p.pronamespace = n.oid WHERE n.nspname = 'public'
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I.%I(%s) TO PUBLIC', r.s, r.f, r.a);
    END LOOP;
END$$;
SQL
write_journal "$G"
PGDATABASE=priv_allfn run migrate --dir "$G"
assert_eq 1 "$RC" "all functions of public: migrate fails on dbkit's procedure"
assert_contains "$ERR" "reached dbkit's own functions, which live in schema public" "all functions of public: the hint says why"
assert_contains "$ERR" "d.deptype = 'e'" "all functions of public: and how to leave the extension's members out"
sed -i "s/WHERE n.nspname = 'public'/WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')/" "$G/0000_grant_all.sql"
PGDATABASE=priv_allfn run migrate --dir "$G"
assert_eq 0 "$RC" "all functions of public: with the members left out, it applies: $ERR"
finish
