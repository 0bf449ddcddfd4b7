#!/usr/bin/env bash
# dbkit studio (issue 12): the HTTP layer with curl (token, paging bounds,
# identifier quoting, capped results, statement timeout, edits refused without
# --allow-edit), then the page in a real headless browser (Debian's chromium
# driven by playwright-core, tests/e2e/studio_browser.mjs), with a screenshot of
# each view saved under the build folder (build/studio-screenshots/), and its
# schema view on a database of 500 tables.
source "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$DBKIT")/.." && pwd)
PIDS=()
E2E_CLEANUP+=('for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done')

fresh_db studio
F=$WORK/m
copy_fixture "$DBKIT_SRC/examples/migrations" "$F"
# Tables the studio must handle: a name that needs quoting, no primary key, wide rows.
q 'CREATE TABLE "we""ird; DROP" (id int PRIMARY KEY, "val""ue" text, n int)'
q "INSERT INTO \"we\"\"ird; DROP\" SELECT g, 'v' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 10 END FROM generate_series(1, 120) g"
q 'CREATE TABLE nopk (a int, b text)'
q "INSERT INTO nopk SELECT g, 'b' || g FROM generate_series(1, 30) g"
run migrate --dir "$F"
assert_eq 0 "$RC" "the example folder migrates"
q "INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 75) g"
# A drift made by hand, from an application that names itself.
PGAPPNAME=hotfix-console q 'ALTER TABLE users ADD COLUMN nickname text'
# Comments are shown as text, never as markup.
q "COMMENT ON TABLE users IS 'people who <b>sign in</b>'; COMMENT ON COLUMN users.email IS '<img src=x onerror=alert(1)>'"

# start_studio NAME ARGS...: sets URL, BASE, TOKEN (and the PID is killed on exit).
start_studio() {
	local name=$1
	shift
	"$DBKIT" studio --port 0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	PIDS+=($!)
	for _ in $(seq 600); do   # up to 60 s: another test may have the other core
		URL=$(grep -o 'http://[^ ]*' "$WORK/$name.out" || true)
		[[ -n $URL ]] && break
		sleep 0.1
	done
	BASE=${URL%%/\?*}
	TOKEN=${URL##*token=}
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
get() { curl -s -H "X-Dbkit-Token: $TOKEN" "$BASE$1"; }
post() { curl -s -H "X-Dbkit-Token: $TOKEN" -H 'Content-Type: application/json' --data-binary "$2" "$BASE$1"; }
js() { python3 -c "import json,sys,urllib.parse; d=json.load(sys.stdin); print($1)" "${@:2}"; }

start_studio ro --dir "$F" --statement-timeout 1s --max-rows 50
assert_contains "$URL" "http://127.0.0.1:" "binds 127.0.0.1 by default"
assert_eq 32 "${#TOKEN}" "the token is 32 characters"
[[ $TOKEN =~ ^[0-9a-f]{32}$ ]] && pass "the token is hex" || fail "token not hex: $TOKEN"

# --- token: every request without it gets 401
assert_eq 401 "$(code "$BASE/")" "page without token: 401"
assert_eq 401 "$(code "$BASE/?token=0123456789abcdef0123456789abcdef")" "page with a wrong token: 401"
assert_eq 401 "$(code "$BASE/api/info")" "API without token: 401"
assert_eq 401 "$(code "$BASE/api/info?token=$TOKEN")" "API with the token in the URL only: 401 (a header is required)"
assert_eq 401 "$(code -H "X-Dbkit-Token: ${TOKEN}x" "$BASE/api/info")" "API with a wrong token: 401"
assert_eq 401 "$(code "$BASE/favicon.ico")" "any other path without token: 401"
assert_eq 401 "$(code -X OPTIONS -H 'Origin: http://evil.example' -H 'Access-Control-Request-Method: POST' "$BASE/api/query")" "CORS preflight: 401"
assert_eq 200 "$(code "$BASE/?token=$TOKEN")" "page with the token: 200"
assert_eq 200 "$(code -H "X-Dbkit-Token: $TOKEN" "$BASE/api/info")" "API with the token header: 200"
hdrs=$(curl -s -D - -o /dev/null -H 'Origin: http://evil.example' -H "X-Dbkit-Token: $TOKEN" "$BASE/api/info")
assert_not_contains "${hdrs,,}" "access-control-allow" "no CORS headers"
assert_contains "${hdrs,,}" "referrer-policy: no-referrer" "no referrer (the URL holds the token)"
page=$(curl -s "$BASE/?token=$TOKEN")
assert_contains "$page" "dbkit studio" "the page is served"
assert_contains "$page" "function showMigrations" "the script is compiled in and inlined"

# --- the views' data, through dbkit's functions
# (each timeline row is an array in the order of "columns")
rows_of() { js '"\n".join(" ".join(str(dict(zip(d["columns"], r)).get(k)) for k in sys.argv[1:]) for r in d["migrations"])' "$@"; }
m=$(get /api/migrations)
assert_eq "5 applied" "$(js 'len(d["migrations"]), {dict(zip(d["columns"], m))["state"] for m in d["migrations"]}.pop()' <<<"$m" | tr -d '(),' )" "migrations: 5 applied"
assert_eq "0000_create_users postgres" "$(rows_of tag applied_by <<<"$m" | head -1)" "migrations: who applied them"
assert_contains "$(get '/api/migration?tag=0000_create_users')" 'CREATE TABLE \"users\"' "migration: its SQL"
d=$(get /api/drift)
assert_contains "$d" '"object":"public.users.nickname"' "drift: the column added by hand"
assert_contains "$d" '"application_name":"hotfix-console"' "drift: its audit entry names the application"
s=$(get /api/schema)
assert_eq "True" "$(js '"email" in [c["name"] for t in d["tables"] if t["name"]=="users" for c in t["columns"]]' <<<"$s")" "schema: the users table's columns"
assert_eq "True" "$(js 'any(f["table"]=="organizations" for t in d["tables"] if t["name"]=="memberships" for f in t["fks"])' <<<"$s")" "schema: foreign keys found"
assert_eq "True" "$(js 'any(t["name"]=="we\"ird; DROP" for t in d["tables"])' <<<"$s")" "schema: a quoted table name parsed back"

# --- the folder is kept between requests and read again when something in it changed;
# the answer is kept while the database's snapshot stays the same
state_of() { get /api/migrations | rows_of tag state applied_by | grep "^$1 " | cut -d' ' -f2-; }
S=$F/0002_create_api_keys.sql
cp "$S" "$WORK/0002.orig"
# Old mtimes: the cache trusts its stamp only when nothing changed in the last 2 s.
touch -d '2020-01-02 03:04:05' "$F"/*.sql "$F"/meta/* "$F"/meta "$F"
assert_eq "applied postgres" "$(state_of 0002_create_api_keys)" "folder read and kept"
python3 -c 'import sys; p = sys.argv[1]; b = open(p, "rb").read(); open(p, "r+b").write(b.replace(b"CREATE", b"create", 1))' "$S"
touch -d '2020-01-02 03:04:05' "$S"
assert_eq "$(stat -c %s "$WORK/0002.orig") 1577934245" "$(stat -c '%s %Y' "$S")" "the edit kept the file's size and mtime"
assert_eq "modified postgres" "$(state_of 0002_create_api_keys)" "an edit that keeps size and mtime shows as modified on the next request"
cp "$WORK/0002.orig" "$S"
assert_eq "applied postgres" "$(state_of 0002_create_api_keys)" "the file restored: applied again"
get /api/migrations >/dev/null
echo '-- one more line' >>"$S"
assert_eq "modified postgres" "$(state_of 0002_create_api_keys)" "an edit right after a request shows on the next one"
mv "$S" "$WORK/0002.moved"
assert_contains "$(get /api/migrations | js 'd["folder_error"]["message"]')" "the file 0002_create_api_keys.sql does not exist" "a file removed: the next request says so"
cp "$WORK/0002.orig" "$S"
assert_eq "applied postgres" "$(state_of 0002_create_api_keys)" "restored"
get /api/migrations >/dev/null
q "UPDATE dbkit.migrations SET applied_by = 'someone else' WHERE tag = '0002_create_api_keys'"
assert_eq "applied someone else" "$(state_of 0002_create_api_keys)" "a change in the database shows on the next request"
q "UPDATE dbkit.migrations SET applied_by = 'postgres' WHERE tag = '0002_create_api_keys'"
assert_eq "applied postgres" "$(state_of 0002_create_api_keys)" "and its undoing"

# --- paging bounds and keyset paging
W=$(python3 -c 'import urllib.parse; print(urllib.parse.quote("we\"ird; DROP"))')
r=$(get "/api/rows?schema=public&table=$W&limit=100000")
assert_eq "50 True" "$(js 'len(d["rows"]), d["next"] is not None' <<<"$r" | tr -d '(),')" "limit above --max-rows is capped at 50"
assert_eq 1 "$(get "/api/rows?schema=public&table=$W&limit=0" | js 'len(d["rows"])')" "limit 0 gives 1 row"
assert_eq 1 "$(get "/api/rows?schema=public&table=$W&limit=-5" | js 'len(d["rows"])')" "a negative limit gives 1 row"
assert_eq 400 "$(code -H "X-Dbkit-Token: $TOKEN" "$BASE/api/rows?schema=public&table=$W&limit=abc")" "a limit that is not a number: 400"
assert_eq 120 "$(get "/api/rows?schema=public&table=$W" | js 'd["count"]')" "small table: exact count"
# every page in turn, by primary key and sorted by a column with NULLs, both directions
walk() { # sort dir -> "ids seen, distinct, in order"
	python3 - "$BASE" "$TOKEN" "$1" "$2" <<'PY'
import json, sys, urllib.parse, urllib.request
base, token, sort, direction = sys.argv[1:5]
after, seen, pages = None, [], 0
while True:
    q = {"schema": "public", "table": 'we"ird; DROP', "limit": "17", "sort": sort, "dir": direction}
    if after: q["after"] = json.dumps(after)
    req = urllib.request.Request(base + "/api/rows?" + urllib.parse.urlencode(q), headers={"X-Dbkit-Token": token})
    d = json.load(urllib.request.urlopen(req))
    seen += [(None if r[2] is None else int(r[2]), int(r[0])) for r in d["rows"]]
    pages += 1
    after = d["next"]
    if not after or pages > 20: break
def key(t):  # NULLS LAST ascending, NULLS FIRST descending, then id
    n, i = t
    return ((n is None, n or 0, i) if direction != "desc" else (n is not None, -(n or 0), -i)) if sort else i
ids = [i for _, i in seen]
print(len(ids), len(set(ids)), seen == sorted(seen, key=key), pages)
PY
}
assert_eq "120 120 True 8" "$(walk '' asc)" "keyset paging by primary key: every row once, in order, 8 pages"
assert_eq "120 120 True 8" "$(walk n asc)" "keyset paging sorted by a nullable column: every row once"
assert_eq "120 120 True 8" "$(walk n desc)" "keyset paging sorted descending: every row once"
r=$(get "/api/rows?schema=public&table=nopk&limit=20")
assert_eq "ctid 20 False" "$(js 'd["paging"], len(d["rows"]), d["editable"]' <<<"$r" | tr -d "(),'")" "a table without primary key pages by ctid, read-only"
A=$(js 'urllib.parse.quote(json.dumps(d["next"]))' <<<"$r")
r2=$(get "/api/rows?schema=public&table=nopk&limit=20&after=$A")
n=$(js 'len(d["rows"]), d["next"]' <<<"$r2" | tr -d '(),')
[[ $n == "10 None" ]] || echo "ctid page 2: $r2" >&2
assert_eq "10 None" "$n" "ctid paging: the second page has the other 10 rows"

# --- identifier quoting and parameters: names and values never become SQL
V=$(python3 -c 'import urllib.parse,json; print(urllib.parse.quote(json.dumps([{"col":"val\"ue","op":"=","value":"x'"'"'; DROP TABLE users; --"}])))')
r=$(get "/api/rows?schema=public&table=$W&filters=$V")
assert_eq "True 0" "$(js 'd["ok"], len(d["rows"])' <<<"$r" | tr -d '(),')" "a filter value with SQL in it is a parameter"
V=$(python3 -c 'import urllib.parse,json; print(urllib.parse.quote(json.dumps([{"col":"val\"ue","op":"contains","value":"V11"}])))')
assert_eq "v11 v110 v111 v112 v113 v114 v115 v116 v117 v118 v119" "$(get "/api/rows?schema=public&table=$W&filters=$V" | js '" ".join(r[1] for r in d["rows"])')" "contains filter on a quoted column"
V=$(python3 -c 'import urllib.parse,json; print(urllib.parse.quote(json.dumps([{"col":"id\" FROM users; --","op":"=","value":"1"}])))')
assert_eq 400 "$(code -H "X-Dbkit-Token: $TOKEN" "$BASE/api/rows?schema=public&table=$W&filters=$V")" "an unknown filter column: 400"
assert_eq 400 "$(code -H "X-Dbkit-Token: $TOKEN" "$BASE/api/rows?schema=public&table=$W&sort=id%22%3B%20DROP")" "an unknown sort column: 400"
assert_eq 404 "$(code -H "X-Dbkit-Token: $TOKEN" "$BASE/api/rows?schema=public&table=users%22%3B%20DROP%20TABLE%20users%3B%20--")" "an unknown table: 404"
assert_contains "$(get "/api/rows?schema=public&table=$W&limit=1")" 'FROM \"public\".\"we\"\"ird; DROP\"' "the table name is quoted in the statement"
assert_eq 75 "$(q 'SELECT count(*) FROM users')" "users still there"

# --- another role's code runs only as that role. Found by an attack: a superuser's studio
# read a view another role owns, and the view's function ran as the superuser.
q "DROP SCHEMA IF EXISTS st CASCADE; DROP ROLE IF EXISTS e2e_st_owner; DROP ROLE IF EXISTS e2e_st_reader"
q "CREATE ROLE e2e_st_owner; CREATE ROLE e2e_st_reader LOGIN; CREATE SCHEMA st AUTHORIZATION e2e_st_owner"
q "SET ROLE e2e_st_owner; CREATE FUNCTION st.who() RETURNS text LANGUAGE sql AS 'SELECT current_user::text';
   CREATE VIEW st.accounts AS SELECT 1 AS id, st.who() AS who;
   CREATE TABLE st.plain (id integer PRIMARY KEY, v text); INSERT INTO st.plain VALUES (1, 'x');
   CREATE TABLE st.guarded (id integer PRIMARY KEY); INSERT INTO st.guarded VALUES (1);
   ALTER TABLE st.guarded ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON st.guarded USING (st.who() IS NOT NULL);
   GRANT USAGE ON SCHEMA st TO e2e_st_reader; GRANT SELECT ON st.accounts, st.plain, st.guarded TO e2e_st_reader"
assert_eq e2e_st_owner "$(get "/api/rows?schema=st&table=accounts" | js 'd["rows"][0][1]')" \
	"a superuser's studio reads another role's view as that role (its function ran as the owner)"
RO_TOKEN=$TOKEN RO_BASE=$BASE RO_URL0=$URL
PGUSER=e2e_st_reader start_studio reader
r=$(get "/api/rows?schema=st&table=accounts")
assert_contains "$r" 'is owned by \"e2e_st_owner\": reading it would run' "a role that cannot act as the owner: the view is refused"
assert_contains "$r" "run the studio as a role that is a member of" "the refusal says what to do"
assert_eq 403 "$(code -H "X-Dbkit-Token: $TOKEN" "$BASE/api/rows?schema=st&table=guarded")" "a table with row security owned by another role: refused (403)"
assert_eq x "$(get "/api/rows?schema=st&table=plain" | js 'd["rows"][0][1]')" "another role's plain table runs no code: read as usual"
TOKEN=$RO_TOKEN BASE=$RO_BASE URL=$RO_URL0
q "DROP SCHEMA st CASCADE"  # the drift counted below is the example's

# --- the data browser's comparisons are pg_catalog's. Found by an attack: paging and filters
# wrote a bare = and >, and pg_catalog has none for varchar, so a role with CREATE on public
# defined them and its function ran as the superuser browsing a table with a varchar key.
q "DROP ROLE IF EXISTS e2e_st_mallory; CREATE ROLE e2e_st_mallory; GRANT CREATE ON SCHEMA public TO e2e_st_mallory"
q "CREATE TABLE vk (id varchar(10) PRIMARY KEY, email varchar(50)); INSERT INTO vk SELECT 'k' || lpad(g::text, 3, '0'), 'e' || g FROM generate_series(1, 60) g"
q "CREATE TABLE st_hj_log (op text, by_user text); GRANT INSERT ON st_hj_log TO PUBLIC"
q "SET ROLE e2e_st_mallory;
   CREATE FUNCTION public.st_hj(a varchar, b varchar, op text) RETURNS boolean LANGUAGE plpgsql AS \$\$
   BEGIN INSERT INTO public.st_hj_log VALUES (op, current_user);
     RETURN CASE op WHEN '=' THEN a::text OPERATOR(pg_catalog.=) b::text ELSE a::text OPERATOR(pg_catalog.>) b::text END; END \$\$;
   CREATE FUNCTION public.st_hj_eq(varchar, varchar) RETURNS boolean LANGUAGE sql AS 'SELECT public.st_hj(\$1, \$2, ''='')';
   CREATE FUNCTION public.st_hj_gt(varchar, varchar) RETURNS boolean LANGUAGE sql AS 'SELECT public.st_hj(\$1, \$2, ''>'')';
   CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.st_hj_eq);
   CREATE OPERATOR public.> (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.st_hj_gt)"
r=$(get "/api/rows?schema=public&table=vk&limit=20")
A=$(js 'urllib.parse.quote(json.dumps(d["next"]))' <<<"$r")
assert_eq "k021 20" "$(get "/api/rows?schema=public&table=vk&limit=20&after=$A" | js 'd["rows"][0][0], len(d["rows"])' | tr -d "(),'")" \
	"a varchar key pages with someone's =(varchar,varchar) and >(varchar,varchar) in public"
V=$(python3 -c 'import urllib.parse,json; print(urllib.parse.quote(json.dumps([{"col":"email","op":"=","value":"e7"}])))')
assert_eq "k007" "$(get "/api/rows?schema=public&table=vk&filters=$V" | js 'd["rows"][0][0]')" "and filters with them"
V=$(python3 -c 'import urllib.parse,json; print(urllib.parse.quote(json.dumps([{"col":"email","op":"=","value":"e7"}])))')
A=$(python3 -c 'import urllib.parse,json; print(urllib.parse.quote(json.dumps({"k":["k010"],"s":"e10"})))')
get "/api/rows?schema=public&table=vk&limit=5&sort=email&after=$A" >/dev/null
assert_eq "" "$(q "SELECT string_agg(DISTINCT op || ' as ' || by_user, ', ') FROM st_hj_log")" \
	"paging, sorted paging and filters never call the operators someone put in public"
# --- the console: capped, paged, timed out, read-only, one statement
t0=$(date +%s%N)
# (the set-returning function in a subquery streams: in FROM it would be materialized first)
r=$(post /api/query '{"sql": "SELECT g, repeat($$x$$, 100) FROM (SELECT generate_series(1, 100000000) AS g) s"}')
t1=$(date +%s%N)
assert_eq "True 50 True" "$(js 'd.get("ok"), len(d.get("rows", [])), d.get("more")' <<<"$r" | tr -d '(),')" "a 100-million-row query: one page of 50 (cursor), more flagged"
[[ "$r" == *'"ok":true'* ]] || echo "the response: ${r:0:2000}"
# (without jit off, that page waited 1 to 3 s for LLVM to load in a new backend, past the 1 s timeout)
assert_eq "off" "$(post /api/query '{"sql": "SHOW jit"}' | js 'd["rows"][0][0]')" "the console runs without JIT"
(( (t1 - t0) / 1000000 < 5000 )) && pass "a huge query answers at once ($(( (t1 - t0) / 1000000 )) ms)" || fail "huge query took $(( (t1 - t0) / 1000000 )) ms"
r=$(post /api/query '{"sql": "SELECT repeat($$y$$, 1000000) FROM generate_series(1, 40)"}')
assert_eq "True True" "$(js 'd["truncated"], len(json.dumps(d)) < 6_000_000' <<<"$r" | tr -d '(),')" "40 MB of values: cut at the byte limit"
assert_eq "51 100" "$(post /api/query '{"sql": "SELECT g FROM generate_series(1, 1000) g", "offset": 50, "limit": 50}' | js 'd["rows"][0][0], d["rows"][-1][0]' | tr -d "(),'")" "the console pages with offset"
t0=$(date +%s)
r=$(post /api/query '{"sql": "SELECT pg_sleep(30)"}')
t1=$(date +%s)
assert_eq "57014" "$(js 'd["error"]["sqlstate"]' <<<"$r")" "a slow query is cancelled by the statement timeout"
assert_contains "$r" "statement-timeout" "the hint names the option"
(( t1 - t0 < 10 )) && pass "cancelled within the timeout ($((t1 - t0)) s)" || fail "slow query took $((t1 - t0)) s"
r=$(post /api/query '{"sql": "SELECT *\nFROM no_such_table"}')
assert_eq "42P01 15" "$(js 'd["error"]["sqlstate"], d["error"]["position"]' <<<"$r" | tr -d "(),'")" "errors carry PostgreSQL's message and position"
assert_eq "25006" "$(post /api/query '{"sql": "DELETE FROM users"}' | js 'd["error"]["sqlstate"]')" "the console is read-only"
post /api/query '{"sql": "SET default_transaction_read_only = off"}' >/dev/null
assert_eq "25006" "$(post /api/query '{"sql": "UPDATE users SET name = null"}' | js 'd["error"]["sqlstate"]')" "a SET from the console does not make it writable"
assert_contains "$(post /api/query '{"sql": "SELECT 1; DELETE FROM users"}')" "multiple commands" "one statement at a time"
assert_eq 75 "$(q 'SELECT count(*) FROM users WHERE name IS NOT NULL')" "users unchanged by the console"

# --- edits: refused without --allow-edit
uid=$(q "SELECT id FROM users WHERE email = 'user1@example.com'")
body="{\"schema\":\"public\",\"table\":\"users\",\"key\":{\"id\":\"$uid\"},\"set\":{\"name\":\"Renamed\"}}"
assert_eq 403 "$(code -H "X-Dbkit-Token: $TOKEN" -H 'Content-Type: application/json' --data-binary "$body" "$BASE/api/rows/update")" "an edit without --allow-edit: 403"
assert_eq "User 1" "$(q "SELECT name FROM users WHERE id = '$uid'")" "the row is unchanged"

# --- --host warns; --allow-edit and --read-only exclude each other
run studio --read-only --allow-edit
assert_eq 2 "$RC" "--read-only with --allow-edit: usage error"
"$DBKIT" studio --port 0 --host 0.0.0.0 >"$WORK/host.out" 2>"$WORK/host.err" &
hp=$!
PIDS+=($hp)
for _ in $(seq 600); do grep -q http "$WORK/host.out" && break; sleep 0.1; done
kill $hp
assert_contains "$(cat "$WORK/host.err")" "warning: studio listens on 0.0.0.0" "--host prints a warning"

RO_URL=$URL
# --- a schema of 500 tables with foreign keys, in a database of its own, for the
# browser (the schema view must stay usable): big.tNNN references big.t(NNN/2) and big.t(NNN-1)
"${PSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS studio_big' -c 'CREATE DATABASE studio_big'
PGDATABASE=studio_big q 'CREATE SCHEMA big'
for k in 0 1 2 3 4; do  # 100 tables a transaction: fewer locks held at once
	PGDATABASE=studio_big q "DO \$\$ BEGIN FOR i IN $((k * 100 + 1))..$((k * 100 + 100)) LOOP
		EXECUTE format('CREATE TABLE big.%I (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now(), amount numeric(12,2), note text%s%s)',
			't' || lpad(i::text, 3, '0'),
			CASE WHEN i > 1 THEN format(', parent_id bigint REFERENCES big.%I', 't' || lpad((i / 2)::text, 3, '0')) ELSE '' END,
			CASE WHEN i > 2 THEN format(', prev_id bigint REFERENCES big.%I', 't' || lpad((i - 1)::text, 3, '0')) ELSE '' END);
		EXECUTE format('CREATE INDEX ON big.%I (name)', 't' || lpad(i::text, 3, '0'));
	END LOOP; END \$\$"
done
PGDATABASE=studio_big q 'CREATE EXTENSION dbkit'
E2E_CLEANUP+=("\"\${PSQL[@]}\" -d postgres -c 'DROP DATABASE IF EXISTS studio_big WITH (FORCE)'")
PGDATABASE=studio_big start_studio big
BIG_URL=$URL
assert_eq 500 "$(get /api/schema | js 'len(d["tables"])')" "500 tables in the big schema"

# --- --open hands the browser a file that redirects, never the URL: a command line is
# visible to every local user, and the token is the studio's role (found by an attack)
mkdir -p "$WORK/fakebin"
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/xdg-open.args"\ncp "$1" "%s/opened.html" 2>/dev/null\nstat -c %%a "$1" >"%s/opened.mode"\n' \
	"$WORK" "$WORK" "$WORK" >"$WORK/fakebin/xdg-open"
chmod +x "$WORK/fakebin/xdg-open"
PATH="$WORK/fakebin:$PATH" "$DBKIT" studio --port 0 --open >"$WORK/open.out" 2>"$WORK/open.err" &
OPEN_PID=$!
for _ in $(seq 300); do [[ -s $WORK/opened.mode ]] && break; sleep 0.1; done
OPEN_URL=$(grep -o 'http://[^ ]*' "$WORK/open.out" || true)
OPENED=$(cat "$WORK/xdg-open.args" 2>/dev/null || true)
assert_not_contains "$OPENED" "token=" "--open: xdg-open's argument holds no token"
assert_contains "$(cat "$WORK/opened.html" 2>/dev/null)" "$OPEN_URL" "--open: the file it opens redirects to the URL"
assert_eq 600 "$(cat "$WORK/opened.mode" 2>/dev/null)" "--open: the file is readable by its user only"
kill -TERM "$OPEN_PID"
wait "$OPEN_PID" 2>/dev/null || true
[[ -n $OPENED && ! -e $OPENED ]] && pass "--open: the file is removed when the studio stops" || fail "--open: $OPENED is left behind"

# --- with --allow-edit
start_studio rw --dir "$F" --allow-edit --statement-timeout 2s
RW_URL=$URL
r=$(post /api/rows/update "$body")
assert_eq "True" "$(js 'd["ok"]' <<<"$r")" "an edit with --allow-edit commits"
assert_contains "$r" 'UPDATE \"public\".\"users\" SET \"name\" = $1::text WHERE \"id\" OPERATOR(pg_catalog.=) $2::uuid' "the edit returns the statement it ran"
assert_eq "Renamed" "$(q "SELECT name FROM users WHERE id = '$uid'")" "the row is changed"
r=$(post /api/rows/update '{"schema":"public","table":"nopk","key":{},"set":{"b":"x"}}')
assert_contains "$r" "has no primary key: edits are refused" "a table without primary key: edit refused"
r=$(post /api/rows/update "{\"schema\":\"public\",\"table\":\"we\\\"ird; DROP\",\"key\":{\"id\":\"3\"},\"set\":{\"val\\\"ue\":\"it's\"}}")
assert_eq "True" "$(js 'd["ok"]' <<<"$r")" "an edit on a quoted table and column"
assert_eq "it's" "$(q "SELECT \"val\"\"ue\" FROM \"we\"\"ird; DROP\" WHERE id = 3")" "the quoted column is changed"
r=$(post /api/rows/update "{\"schema\":\"public\",\"table\":\"users\",\"key\":{\"id\":\"00000000-0000-0000-0000-000000000000\"},\"set\":{\"name\":\"x\"}}")
assert_contains "$r" "no row of" "an edit of a row that is gone: refused"
r=$(post /api/rows/update '{"schema":"public","table":"vk","key":{"id":"k005"},"set":{"email":"new"}}')
assert_eq "True" "$(js 'd["ok"]' <<<"$r")" "an edit keyed by varchar"
assert_eq "" "$(q "SELECT string_agg(DISTINCT op || ' as ' || by_user, ', ') FROM st_hj_log")" \
	"the edit never calls the operators someone put in public"
q "DROP TABLE vk, st_hj_log; DROP OWNED BY e2e_st_mallory; DROP ROLE e2e_st_mallory"

# --- the page in a real browser
export STUDIO_RO_URL=$RO_URL STUDIO_RW_URL=$RW_URL STUDIO_BIG_URL=$BIG_URL STUDIO_SHOTS=$BUILD/studio-screenshots
NM=$BUILD/studio-browser
mkdir -p "$NM"
lock_install "$NM"
if ! cmp -s "$DBKIT_SRC/tests/e2e/browser/package-lock.json" "$NM/package-lock.json" || [[ ! -d $NM/node_modules/playwright-core ]]; then
	cp "$DBKIT_SRC/tests/e2e/browser/package.json" "$DBKIT_SRC/tests/e2e/browser/package-lock.json" "$NM/"
	(cd "$NM" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >"$WORK/npm.log" 2>&1 ||
		{ cat "$WORK/npm.log" >&2; fail "npm ci (playwright-core) failed"; }
fi
unlock_install
export STUDIO_NODE_MODULES=$NM/node_modules
set +e
node "$DBKIT_SRC/tests/e2e/studio_browser.mjs" >"$WORK/browser.out" 2>&1
brc=$?
set -e
cat "$WORK/browser.out"
assert_eq 0 "$brc" "the browser checks pass"
assert_eq 0 "$(grep -c '^FAIL' "$WORK/browser.out" || true)" "no browser check failed"
assert_eq "Browser edit" "$(q "SELECT name FROM users WHERE email = 'user2@example.com'")" "the edit made in the browser is in the database"
# --- accepting drift (after the browser has seen it): a reason is required, then recorded
assert_contains "$(post /api/drift/accept '{"reason": "  "}')" "a reason is required" "accept drift without a reason: refused"
assert_eq 3 "$(get /api/drift | js 'len(d["migrations"])')" "the drift is still there (the column and the two comments)"
assert_eq True "$(post /api/drift/accept '{"reason": "nickname added during the studio test"}' | js 'd["ok"]')" "accept drift with a reason"
assert_eq 0 "$(get /api/drift | js 'len(d["migrations"])')" "no drift after accepting"
assert_eq "nickname added during the studio test" "$(q "SELECT reason FROM dbkit.events WHERE action = 'accept-drift'")" "the reason is recorded in dbkit.events"
for v in migrations drift schema diagram data query schema500 diagram500; do
	[[ -s $STUDIO_SHOTS/$v.png ]] && pass "screenshot $v.png" || fail "no screenshot $STUDIO_SHOTS/$v.png"
done
finish
