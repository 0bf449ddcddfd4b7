#!/usr/bin/env bash
# Interop with the REAL drizzle migrator from npm (drizzle-orm's node-postgres migrate()),
# for both shapes of drizzle's tracking table:
#   0.x  drizzle-orm 0.45.x: journal layout; __drizzle_migrations(id, hash, created_at);
#        pending = `when` > max(created_at)
#   1.0  drizzle-orm 1.0.0-rc.5: <YYYYMMDDHHMMSS_name>/migration.sql layout; the table adds
#        name and applied_at; pending = folder name not in the table's names
# Scenarios per shape: drizzle first then dbkit (dbkit adopts, applies nothing); dbkit first
# then drizzle (drizzle applies nothing); mixed (drizzle applied a prefix, dbkit adopts it and
# applies the rest, then drizzle applies nothing).
# The npm packages are pinned: tests/e2e/npm/{v0,v1}/package.json + package-lock.json (made
# with `npm install --package-lock-only`; to move to newer versions, edit package.json there and
# run that again). `npm ci` installs exactly the lock into the build tree
# ($(dirname $E2E_STATE)/npm-drizzle), never the repo; an install is reused while it was made
# from the same lock file (its sha256 is kept beside it).
source "$(dirname "$0")/lib.sh"

DRIZZLE_0X=0.45.4       # drizzle-orm 0.45, npm's `latest` line (tests/e2e/npm/v0)
DRIZZLE_10=1.0.0-rc.5    # the 1.0 release candidate drizzle-format.md describes (tests/e2e/npm/v1)
PINNED="$DBKIT_SRC/tests/e2e/npm"
NPM_DIR="$(dirname "$E2E_STATE")/npm-drizzle"
HELPER="$DBKIT_SRC/tests/e2e/drizzle_migrate.mjs"
FIXTURE="$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations"

die() {
	echo "FAIL: $*" >&2
	exit 1
}
command -v node >/dev/null || die "node is not installed: this test needs Node.js and npm"
command -v npm >/dev/null || die "npm is not installed: this test needs Node.js and npm"

# npm_setup SUBDIR DRIZZLE_VERSION: `npm ci` of tests/e2e/npm/SUBDIR into $NPM_DIR/SUBDIR, with
# the helper beside node_modules so that its imports resolve there. Prints the directory.
npm_setup() {
	local dir=$NPM_DIR/$1 want
	want=$(cat "$PINNED/$1/package.json" "$PINNED/$1/package-lock.json" | sha256sum | cut -d' ' -f1)
	mkdir -p "$dir"
	lock_install "$dir"
	if [[ ! -f $dir/.dbkit-installed || "$(cat "$dir/.dbkit-installed")" != "$want" ||
		! -f $dir/node_modules/drizzle-orm/package.json || ! -f $dir/node_modules/pg/package.json ]]; then
		rm -rf "$dir/node_modules" "$dir/.dbkit-installed"
		cp "$PINNED/$1/package.json" "$PINNED/$1/package-lock.json" "$dir/"
		echo "npm ci (tests/e2e/npm/$1: drizzle-orm@$2) into $dir" >&2
		if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2); then
			die "npm ci could not install tests/e2e/npm/$1 into $dir (is the npm registry reachable?)"
		fi
		printf '%s' "$want" >"$dir/.dbkit-installed"
	fi
	unlock_install
	cp "$HELPER" "$dir/drizzle_migrate.mjs"
	echo "$dir"
}
installed_version() { # dir package
	node -p 'require(process.argv[1]).version' "$1/node_modules/$2/package.json"
}

# drizzle NPMDIR FOLDER [SCHEMA TABLE]: runs drizzle's migrator; sets RC, OUT, ERR like run.
drizzle() {
	local dir=$1
	shift
	set +e
	node "$dir/drizzle_migrate.mjs" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	set -e
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
}
json_field() { # field: from $OUT (a dbkit --json document)
	python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$OUT" "$1" 2>/dev/null || echo "<no $1 in: $OUT>"
}
# schema_dump without drizzle's schema: what the migrations built, whatever drizzle's table looks like.
app_schema_dump() { pg_dump -s -d "$PGDATABASE" --exclude-schema=dbkit --exclude-schema=drizzle | grep -v '^\\\(un\)\?restrict '; }
drizzle_count() { q 'SELECT count(*) FROM drizzle.__drizzle_migrations'; }
drizzle_columns() {
	q "SELECT string_agg(column_name::text, ',' ORDER BY ordinal_position) FROM information_schema.columns
	   WHERE table_schema = 'drizzle' AND table_name = '__drizzle_migrations'"
}
hashes_of() { # folder: sha256 of every migration, in order
	local f=$1 t
	if [[ -f $f/meta/_journal.json ]]; then
		for t in $(python3 -c 'import json, sys; [print(e["tag"]) for e in json.load(open(sys.argv[1]))["entries"]]' "$f/meta/_journal.json"); do
			sha256sum "$f/$t.sql" | cut -d' ' -f1
		done
	else
		for t in $(ls "$f"); do sha256sum "$f/$t/migration.sql" | cut -d' ' -f1; done
	fi
}
# truncate_journal FOLDER N: keeps the first N journal entries (and their files).
truncate_journal() {
	python3 - "$1" "$2" <<'PY'
import json, os, sys
f, n = sys.argv[1], int(sys.argv[2])
p = os.path.join(f, "meta/_journal.json")
j = json.load(open(p))
for e in j["entries"][n:]:
    os.remove(os.path.join(f, e["tag"] + ".sql"))
    os.remove(os.path.join(f, "meta", e["tag"].split("_")[0] + "_snapshot.json"))
j["entries"] = j["entries"][:n]
open(p, "w").write(json.dumps(j, indent=2))
PY
}
# to_folders SRC DEST: the journal layout converted the way `drizzle-kit up` (1.0.0-rc.5) moves
# it: one folder per entry named <when as UTC YYYYMMDDHHMMSS>_<tag without its prefix>, holding
# the SQL byte for byte as migration.sql. snapshot.json is left out: drizzle-kit up rewrites it
# to snapshot format 9, and neither drizzle-orm's migrator nor dbkit migrate reads it.
to_folders() {
	python3 - "$1" "$2" <<'PY'
import datetime, json, os, shutil, sys
src, dst = sys.argv[1:]
os.makedirs(dst)
for e in json.load(open(os.path.join(src, "meta/_journal.json")))["entries"]:
    stamp = datetime.datetime.fromtimestamp(e["when"] // 1000, datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
    name = stamp + "_" + e["tag"].split("_", 1)[1]
    os.makedirs(os.path.join(dst, name))
    shutil.copyfile(os.path.join(src, e["tag"] + ".sql"), os.path.join(dst, name, "migration.sql"))
PY
}

# ---------------------------------------------------------------- installs
NPM_0X=$(npm_setup v0 "$DRIZZLE_0X")
NPM_10=$(npm_setup v1 "$DRIZZLE_10")
v0=$(installed_version "$NPM_0X" drizzle-orm)
v1=$(installed_version "$NPM_10" drizzle-orm)
echo "drizzle-orm $v0 (pg $(installed_version "$NPM_0X" pg)) and drizzle-orm $v1 (pg $(installed_version "$NPM_10" pg))"
assert_eq "$DRIZZLE_0X" "$v0" "0.x install is drizzle-orm $DRIZZLE_0X (the lock's)"
assert_eq "$DRIZZLE_10" "$v1" "1.0 install is drizzle-orm $DRIZZLE_10"

# ---------------------------------------------------------------- folders
J=$WORK/journal
copy_fixture "$FIXTURE" "$J"
J5=$WORK/journal5
copy_fixture "$FIXTURE" "$J5"
truncate_journal "$J5" 5
D=$WORK/folders
to_folders "$J" "$D"
D5=$WORK/folders5
mkdir "$D5"
for n in $(ls "$D" | head -5); do cp -r "$D/$n" "$D5/"; done
names=$(ls "$D")
assert_eq 9 "$(ls "$D" | wc -l)" "1.0 layout: 9 migration folders"
assert_eq 20261125221150_initial_schema "$(ls "$D" | head -1)" "1.0 layout: folder named after when (UTC) and the tag"
assert_eq "$(hashes_of "$J")" "$(hashes_of "$D")" "1.0 layout: same SQL bytes as the journal layout"
hashes=$(hashes_of "$J")

# ================================================================ 0.x shape
# a. drizzle first, then dbkit adopts everything and applies nothing
fresh_db drizzle0x_a
drizzle "$NPM_0X" "$J"
assert_eq 0 "$RC" "0.x a: drizzle migrate exits 0 ($ERR)"
assert_eq 9 "$(drizzle_count)" "0.x a: drizzle recorded 9 rows"
assert_eq "id,hash,created_at" "$(drizzle_columns)" "0.x a: drizzle's table has the 0.x shape"
# before dbkit adopts them, what drizzle applied is applied for drift --dir too (kanbn/kan:
# every object a migration made was reported as drift)
run drift --dir "$J" --json
assert_eq "0" "$(python3 -c 'import json,sys; print(len(json.loads(sys.stdin.read())["code"]))' <<<"$OUT")" \
	"0.x a: before adoption drift --dir finds no difference against the code ($OUT)"
before=$(schema_dump)
run migrate --dir "$J" --json
assert_eq 0 "$RC" "0.x a: dbkit migrate exits 0 ($ERR)"
assert_eq 0 "$(json_field applied)" "0.x a: --json applied = 0"
assert_eq 9 "$(json_field adopted)" "0.x a: --json adopted = 9"
assert_eq 9 "$(q "SELECT count(*) FROM dbkit.migrations WHERE how = 'adopted'")" "0.x a: 9 adopted rows in dbkit.migrations"
assert_eq "$hashes" "$(q 'SELECT hash FROM dbkit.migrations ORDER BY id')" "0.x a: adopted rows carry the files' hashes"
assert_eq 9 "$(drizzle_count)" "0.x a: drizzle's table still has 9 rows"
assert_eq "$before" "$(schema_dump)" "0.x a: adoption changed no schema"
run migrate --dir "$J"
assert_eq 0 "$RC" "0.x a: second dbkit run exits 0"
assert_contains "$OUT" "nothing to apply" "0.x a: second dbkit run has nothing to apply"
assert_eq 9 "$(q 'SELECT count(*) FROM dbkit.migrations')" "0.x a: still 9 history rows"

# b. dbkit first, then drizzle applies nothing
fresh_db drizzle0x_b
run migrate --dir "$J"
assert_eq 0 "$RC" "0.x b: dbkit migrate exits 0 ($ERR)"
assert_contains "$OUT" "applied 9 migrations" "0.x b: dbkit applied 9"
assert_eq 9 "$(drizzle_count)" "0.x b: dbkit wrote 9 rows into drizzle's table"
assert_eq "id,hash,created_at" "$(drizzle_columns)" "0.x b: dbkit created drizzle's table in the 0.x shape"
before=$(schema_dump)
drizzle "$NPM_0X" "$J"
assert_eq 0 "$RC" "0.x b: drizzle migrate exits 0 ($ERR)"
assert_eq 9 "$(drizzle_count)" "0.x b: drizzle applied nothing (still 9 rows)"
assert_eq "$before" "$(schema_dump)" "0.x b: schema unchanged by drizzle"

# c. mixed: drizzle applied the first 5, dbkit adopts them and applies the other 4
fresh_db drizzle0x_c
drizzle "$NPM_0X" "$J5"
assert_eq 0 "$RC" "0.x c: drizzle migrate (first 5) exits 0 ($ERR)"
assert_eq 5 "$(drizzle_count)" "0.x c: drizzle recorded 5 rows"
run migrate --dir "$J"
assert_eq 0 "$RC" "0.x c: dbkit migrate exits 0 ($ERR)"
assert_contains "$OUT" "applied 4 migrations" "0.x c: dbkit applied 4"
assert_contains "$OUT" "adopted 5 from drizzle" "0.x c: dbkit adopted 5"
assert_eq "adopted|5
applied|4" "$(q 'SELECT how, count(*) FROM dbkit.migrations GROUP BY how ORDER BY how')" "0.x c: 5 adopted + 4 applied in dbkit.migrations"
assert_eq "$hashes" "$(q 'SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id')" "0.x c: drizzle's table has all 9 hashes in order"
before=$(schema_dump)
drizzle "$NPM_0X" "$J"
assert_eq 0 "$RC" "0.x c: drizzle migrate (all 9) exits 0 ($ERR)"
assert_eq 9 "$(drizzle_count)" "0.x c: drizzle then applies nothing"
assert_eq "$before" "$(schema_dump)" "0.x c: schema unchanged by drizzle"

# ================================================================ 1.0 shape
# a. drizzle first, then dbkit adopts everything and applies nothing
fresh_db drizzle10_a
drizzle "$NPM_10" "$D"
assert_eq 0 "$RC" "1.0 a: drizzle migrate exits 0 ($ERR)"
assert_eq 9 "$(drizzle_count)" "1.0 a: drizzle recorded 9 rows"
assert_eq "id,hash,created_at,name,applied_at" "$(drizzle_columns)" "1.0 a: drizzle's table has name and applied_at"
assert_eq "$names" "$(q 'SELECT name FROM drizzle.__drizzle_migrations ORDER BY id')" "1.0 a: drizzle's rows are named after the folders"
before=$(schema_dump)
run migrate --dir "$D" --json
assert_eq 0 "$RC" "1.0 a: dbkit migrate exits 0 ($ERR)"
assert_eq 0 "$(json_field applied)" "1.0 a: --json applied = 0"
assert_eq 9 "$(json_field adopted)" "1.0 a: --json adopted = 9"
assert_eq 9 "$(q "SELECT count(*) FROM dbkit.migrations WHERE how = 'adopted'")" "1.0 a: 9 adopted rows in dbkit.migrations"
assert_eq "$names" "$(q 'SELECT tag FROM dbkit.migrations ORDER BY id')" "1.0 a: dbkit's tags are the folder names"
assert_eq 9 "$(drizzle_count)" "1.0 a: drizzle's table still has 9 rows"
assert_eq "$before" "$(schema_dump)" "1.0 a: adoption changed no schema"
run migrate --dir "$D"
assert_eq 0 "$RC" "1.0 a: second dbkit run exits 0"
assert_contains "$OUT" "nothing to apply" "1.0 a: second dbkit run has nothing to apply"

# b. dbkit first, then drizzle applies nothing
fresh_db drizzle10_b
run migrate --dir "$D"
assert_eq 0 "$RC" "1.0 b: dbkit migrate exits 0 ($ERR)"
assert_contains "$OUT" "applied 9 migrations" "1.0 b: dbkit applied 9"
assert_eq 9 "$(drizzle_count)" "1.0 b: dbkit wrote 9 rows into drizzle's table"
echo "1.0 b: drizzle's table as dbkit created it: $(drizzle_columns)"
before=$(app_schema_dump)
drizzle "$NPM_10" "$D"
assert_eq 0 "$RC" "1.0 b: drizzle migrate exits 0 ($ERR)"
assert_eq 9 "$(drizzle_count)" "1.0 b: drizzle applied nothing (still 9 rows)"
assert_eq "$before" "$(app_schema_dump)" "1.0 b: schema unchanged by drizzle"
assert_eq "id,hash,created_at,name,applied_at" "$(drizzle_columns)" "1.0 b: drizzle's table has name and applied_at"
assert_eq "$names" "$(q 'SELECT name FROM drizzle.__drizzle_migrations ORDER BY id')" "1.0 b: every row carries its folder name"

# c. mixed: drizzle applied the first 5 (1.0 table), dbkit adopts them and applies the other 4
fresh_db drizzle10_c
drizzle "$NPM_10" "$D5"
assert_eq 0 "$RC" "1.0 c: drizzle migrate (first 5) exits 0 ($ERR)"
assert_eq 5 "$(drizzle_count)" "1.0 c: drizzle recorded 5 rows"
run migrate --dir "$D"
assert_eq 0 "$RC" "1.0 c: dbkit migrate exits 0 ($ERR)"
assert_contains "$OUT" "applied 4 migrations" "1.0 c: dbkit applied 4"
assert_contains "$OUT" "adopted 5 from drizzle" "1.0 c: dbkit adopted 5"
assert_eq "adopted|5
applied|4" "$(q 'SELECT how, count(*) FROM dbkit.migrations GROUP BY how ORDER BY how')" "1.0 c: 5 adopted + 4 applied in dbkit.migrations"
assert_eq "$names" "$(q 'SELECT name FROM drizzle.__drizzle_migrations ORDER BY id')" "1.0 c: dbkit's rows carry name"
assert_eq "$hashes" "$(q 'SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id')" "1.0 c: drizzle's table has all 9 hashes in order"
assert_eq 0 "$(q 'SELECT count(*) FROM drizzle.__drizzle_migrations WHERE applied_at IS NULL')" "1.0 c: every row has applied_at"
before=$(schema_dump)
drizzle "$NPM_10" "$D"
assert_eq 0 "$RC" "1.0 c: drizzle migrate (all 9) exits 0 ($ERR)"
assert_eq 9 "$(drizzle_count)" "1.0 c: drizzle then applies nothing"
assert_eq "$before" "$(schema_dump)" "1.0 c: schema unchanged by drizzle"
finish
