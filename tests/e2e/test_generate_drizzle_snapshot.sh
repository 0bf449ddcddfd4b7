#!/usr/bin/env bash
# dbkit generate writes drizzle-kit's snapshot (meta/NNNN_snapshot.json) beside each
# journal-layout migration, so that the REAL drizzle-kit generate (from npm) afterwards
# finds nothing already covered, and only what changed since.
#   schema_v1.ts (tables, serial, identity, defaults, an enum, indexes DESC and WHERE, a
#   foreign key, unique constraints, a check, a composite primary key, a view)
#   -> drizzle-kit export -> dbkit generate init --schema -> drizzle-kit generate: nothing;
#   schema_v2.ts (a column and an index more) -> drizzle-kit generate: exactly those two.
# Also: the snapshot equals the one drizzle-kit writes for the same schema.ts (on what its
# diff reads); a plan split in two migrations (a concurrent index) gets two chained
# snapshots; a previous snapshot that is not JSON stops generate before it writes
# anything; a folder without snapshots starts the chain (prevId all zeros).
# drizzle-kit and drizzle-orm are pinned in tests/e2e/npm/kit (package.json + lock, `npm
# ci` into the build tree, reused while the lock is unchanged; no browser, no postinstall
# download beyond npm's own packages).
source "$(dirname "$0")/lib.sh"

HERE="$DBKIT_SRC/tests/e2e/drizzle_snapshot"
PINNED="$DBKIT_SRC/tests/e2e/npm/kit"
NPM_DIR="$(dirname "$E2E_STATE")/npm-drizzle/kit"
ZERO=00000000-0000-0000-0000-000000000000

command -v node >/dev/null || { echo "FAIL: node is not installed" >&2; exit 1; }
command -v npm >/dev/null || { echo "FAIL: npm is not installed" >&2; exit 1; }

want=$(cat "$PINNED/package.json" "$PINNED/package-lock.json" | sha256sum | cut -d' ' -f1)
mkdir -p "$NPM_DIR"
lock_install "$NPM_DIR"
if [[ ! -f $NPM_DIR/.dbkit-installed || "$(cat "$NPM_DIR/.dbkit-installed")" != "$want" ||
	! -f $NPM_DIR/node_modules/drizzle-kit/package.json || ! -f $NPM_DIR/node_modules/drizzle-orm/package.json ]]; then
	rm -rf "$NPM_DIR/node_modules" "$NPM_DIR/.dbkit-installed"
	cp "$PINNED/package.json" "$PINNED/package-lock.json" "$NPM_DIR/"
	echo "npm ci (tests/e2e/npm/kit) into $NPM_DIR" >&2
	(cd "$NPM_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
		{ echo "FAIL: npm ci could not install tests/e2e/npm/kit (is the npm registry reachable?)" >&2; exit 1; }
	printf '%s' "$want" >"$NPM_DIR/.dbkit-installed"
fi
unlock_install
KIT="$NPM_DIR/node_modules/drizzle-kit/bin.cjs"
echo "drizzle-kit $(node -p "require('$NPM_DIR/node_modules/drizzle-kit/package.json').version"), drizzle-orm $(node -p "require('$NPM_DIR/node_modules/drizzle-orm/package.json').version")"

# The project: schema.ts beside node_modules, so that its imports resolve.
P=$WORK/proj
mkdir -p "$P"
ln -s "$NPM_DIR/node_modules" "$P/node_modules"
cp "$HERE/schema_v1.ts" "$HERE/schema_v2.ts" "$P/"

# kit generate OUT SCHEMA NAME / kit export SCHEMA: drizzle-kit in the project; sets KRC, KOUT.
kit() {
	local cmd=$1
	shift
	set +e
	if [[ $cmd == generate ]]; then
		KOUT=$(cd "$P" && node "$KIT" generate --dialect=postgresql --schema="./$2" --out="$1" --name="$3" 2>&1)
	else
		KOUT=$(cd "$P" && node "$KIT" export --dialect=postgresql --schema="./$1" 2>&1 >"$WORK/export.sql")
	fi
	KRC=$?
	set -e
}
files_of() { (cd "$1" && find . -type f | sort); }
json_get() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval("d" + sys.argv[2]))' "$1" "$2"; }
empty_journal() { mkdir -p "$1/meta" && printf '{\n  "version": "7",\n  "dialect": "postgresql",\n  "entries": []\n}' >"$1/meta/_journal.json"; }

fresh_db gen_drizzle_snapshot

case_begin "drizzle-kit export of schema_v1.ts, then dbkit generate init"
kit export schema_v1.ts
[[ $KRC -eq 0 ]] || { echo "$KOUT" >&2; exit 1; }
cp "$WORK/export.sql" "$WORK/v1.sql"
kit export schema_v2.ts
[[ $KRC -eq 0 ]] || { echo "$KOUT" >&2; exit 1; }
cp "$WORK/export.sql" "$WORK/v2.sql"
chmod 644 "$WORK/v1.sql" "$WORK/v2.sql"
F1=$P/f1
empty_journal "$F1"
run generate init --dir "$F1" --schema "$WORK/v1.sql"
assert_eq 0 "$RC" "dbkit generate init succeeds ($ERR)"
assert_eq "./0000_init.sql
./meta/0000_snapshot.json
./meta/_journal.json" "$(files_of "$F1")" "one migration, its journal entry and its drizzle snapshot"
assert_contains "$OUT" "wrote $F1/meta/0000_snapshot.json" "the snapshot is reported as written"
assert_eq "$ZERO" "$(json_get "$F1/meta/0000_snapshot.json" '["prevId"]')" "the first snapshot's prevId is all zeros"
assert_match "$(json_get "$F1/meta/0000_snapshot.json" '["id"]')" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "its id is a uuid v4"
assert_eq "7 postgresql" "$(json_get "$F1/meta/0000_snapshot.json" '["version"] + " " + d["dialect"]')" "version 7, dialect postgresql"

case_begin "the snapshot is the one drizzle-kit writes for schema_v1.ts"
kit generate ./ref schema_v1.ts init
[[ $KRC -eq 0 ]] || { echo "$KOUT" >&2; exit 1; }
set +e
CMP=$(python3 "$HERE/compare_snapshots.py" "$F1/meta/0000_snapshot.json" "$P/ref/meta/0000_snapshot.json" 2>&1)
CRC=$?
set -e
assert_eq "0 " "$CRC $CMP" "no difference drizzle-kit's diff would read"

case_begin "drizzle-kit generate after dbkit generate: nothing to do"
cp -a "$F1" "$WORK/f1.orig"
kit generate ./f1 schema_v1.ts again
assert_eq 0 "$KRC" "drizzle-kit generate succeeds"
assert_contains "$KOUT" "No schema changes, nothing to migrate" "drizzle-kit finds no change ($KOUT)"
assert_eq "$(files_of "$WORK/f1.orig")" "$(files_of "$F1")" "it writes no migration"

case_begin "drizzle-kit generate after the change: only the change"
F2=$P/f2
cp -a "$WORK/f1.orig" "$F2"
kit generate ./f2 schema_v2.ts change
assert_eq 0 "$KRC" "drizzle-kit generate succeeds ($KOUT)"
assert_eq "./0000_init.sql
./0001_change.sql
./meta/0000_snapshot.json
./meta/0001_snapshot.json
./meta/_journal.json" "$(files_of "$F2")" "one migration more"
assert_eq 'ALTER TABLE "users" ADD COLUMN "bio" text;
CREATE INDEX "users_bio_idx" ON "users" USING btree ("bio");' \
	"$(sed 's/--> statement-breakpoint/\n/g' "$F2/0001_change.sql" | grep -v '^\s*$')" "exactly the column and the index"
assert_eq "$(json_get "$F1/meta/0000_snapshot.json" '["id"]')" "$(json_get "$F2/meta/0001_snapshot.json" '["prevId"]')" \
	"drizzle-kit's snapshot follows dbkit's (prevId)"
run check --dir "$F2" --offline
assert_eq 0 "$RC" "dbkit check --offline finds the chain sound ($OUT $ERR)"

case_begin "the folder applies, and dbkit agrees it is up to date"
run migrate --dir "$F2"
assert_eq 0 "$RC" "dbkit migrate applies both ($ERR)"
run generate again --dir "$F2" --schema "$WORK/v2.sql"
assert_eq 0 "$RC" "dbkit generate succeeds ($ERR)"
assert_contains "$OUT" "nothing to generate" "the folder already builds schema_v2"
run drift --dir "$F2"
assert_eq 0 "$RC" "no drift against the folder or its newest snapshot ($OUT $ERR)"
run generate again --dir "$F2" --from-snapshot --check
assert_eq 0 "$RC" "generate --from-snapshot --check: the migrations build drizzle-kit's newest snapshot ($OUT $ERR)"
assert_contains "$OUT" "nothing to generate" "nothing between them"
run generate again --dir "$F2" --from-snapshot --json
assert_eq 0 "$RC" "and with --json ($ERR)"
assert_eq "[]" "$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["written"]))' <<<"$OUT")" "nothing written"

case_begin "a plan in two migrations gets two chained snapshots"
fresh_db gen_drizzle_snapshot2
F3=$P/f3
cp -a "$WORK/f1.orig" "$F3"
run migrate --dir "$F3"
assert_eq 0 "$RC" "the init migration applies ($ERR)"
run generate change --dir "$F3" --schema "$WORK/v2.sql"
assert_eq 0 "$RC" "dbkit generate change succeeds ($ERR)"
assert_eq "./0000_init.sql
./0001_change.sql
./0002_change_2.sql
./meta/0000_snapshot.json
./meta/0001_snapshot.json
./meta/0002_snapshot.json
./meta/_journal.json" "$(files_of "$F3")" "the column, then the concurrent index on its own, each with a snapshot"
assert_contains "$(cat "$F3/0002_change_2.sql")" "CONCURRENTLY" "the second is the concurrent index"
assert_contains "$OUT" "drizzle's own migrator runs every file in one transaction, where it fails" \
	"generate says the concurrent one is for dbkit migrate, not drizzle's migrator"
assert_eq "$(json_get "$F3/meta/0000_snapshot.json" '["id"]')" "$(json_get "$F3/meta/0001_snapshot.json" '["prevId"]')" "0001 follows 0000"
assert_eq "$(json_get "$F3/meta/0001_snapshot.json" '["id"]')" "$(json_get "$F3/meta/0002_snapshot.json" '["prevId"]')" "0002 follows 0001"
assert_eq "$(json_get "$F3/meta/0001_snapshot.json" '["tables"]')" "$(json_get "$F3/meta/0002_snapshot.json" '["tables"]')" \
	"both describe the final schema (the intermediate one too)"
cp -a "$F3" "$WORK/f3.orig"
kit generate ./f3 schema_v2.ts again
assert_contains "$KOUT" "No schema changes, nothing to migrate" "drizzle-kit finds no change ($KOUT)"
assert_eq "$(files_of "$WORK/f3.orig")" "$(files_of "$F3")" "it writes no migration"
run migrate --dir "$F3"
assert_eq 0 "$RC" "both migrations apply ($ERR)"
run check --dir "$F3"
assert_eq 0 "$RC" "dbkit check finds the folder sound ($OUT $ERR)"

case_begin "a previous snapshot that is not JSON: nothing written"
F4=$P/f4
cp -a "$WORK/f1.orig" "$F4"
printf '{"id": "' >"$F4/meta/0000_snapshot.json"
before=$(files_of "$F4"; cat "$F4/meta/_journal.json")
run generate change --dir "$F4" --schema "$WORK/v2.sql"
assert_eq 2 "$RC" "dbkit generate refuses (exit 2)"
assert_contains "$ERR" "$F4/meta/0000_snapshot.json is not JSON" "naming the file"
assert_contains "$ERR" "nothing was written" "and saying nothing was written"
assert_eq "$before" "$(files_of "$F4"; cat "$F4/meta/_journal.json")" "the folder is unchanged"
rm -f "$F4/meta/0000_snapshot.json"
printf '{"version": "7", "dialect": "postgresql"}' >"$F4/meta/0000_snapshot.json"
run generate change --dir "$F4" --schema "$WORK/v2.sql" --json
assert_eq 2 "$RC" "a snapshot without an id is refused too"
assert_contains "$OUT" 'has no \"id\" (a uuid)' "with a JSON error document"

case_begin "a folder without snapshots: the new one starts the chain"
F5=$P/f5
cp -a "$WORK/f1.orig" "$F5"
rm "$F5/meta/0000_snapshot.json"
run generate change --dir "$F5" --schema "$WORK/v2.sql"
assert_eq 0 "$RC" "dbkit generate succeeds ($ERR)"
assert_contains "$ERR" "holds no drizzle snapshot: the new one starts the chain (prevId $ZERO)" "and says so"
assert_eq "$ZERO" "$(json_get "$F5/meta/0001_snapshot.json" '["prevId"]')" "prevId all zeros"
kit generate ./f5 schema_v2.ts again
assert_contains "$KOUT" "No schema changes, nothing to migrate" "drizzle-kit takes it as the whole schema ($KOUT)"

case_begin "a snapshot already at the next name: nothing written"
F6=$P/f6
cp -a "$WORK/f1.orig" "$F6"
cp "$F6/meta/0000_snapshot.json" "$F6/meta/0001_snapshot.json"
before=$(files_of "$F6"; cat "$F6/meta/_journal.json")
run generate change --dir "$F6" --schema "$WORK/v2.sql"
assert_eq 2 "$RC" "dbkit generate refuses (exit 2)"
assert_contains "$ERR" "$F6/meta/0001_snapshot.json exists already" "naming the file"
assert_eq "$before" "$(files_of "$F6"; cat "$F6/meta/_journal.json")" "the folder is unchanged"

finish
