#!/usr/bin/env bash
# History repair from the client, each recorded with who, when and why; and the
# drizzle-kit 1.0 folders layout through migrate, status and check.
source "$(dirname "$0")/lib.sh"
F=$WORK/m
copy_fixture "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations" "$F"

# an existing database that is at 0002 already: baseline, then migrate applies the rest
fresh_db repair_baseline
head_folder=$WORK/head
mkdir -p "$head_folder/meta"
cp "$F"/000[012]_*.sql "$head_folder/"
python3 - "$F/meta/_journal.json" "$head_folder/meta/_journal.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); j["entries"] = j["entries"][:3]; open(sys.argv[2], "w").write(json.dumps(j, indent=2))
PY
run migrate --dir "$head_folder" --no-drizzle-sync
q 'TRUNCATE dbkit.migrations CASCADE' # the database "was migrated by something else"
run baseline 0002_add_organizations --dir "$F"
assert_eq 0 "$RC" "baseline exits 0"
assert_contains "$OUT" "baselined 0002_add_organizations" "baseline lists what it recorded"
assert_eq 3 "$(q "SELECT count(*) FROM dbkit.migrations WHERE how = 'baseline'")" "three migrations baselined"
run migrate --dir "$F"
assert_eq 0 "$RC" "migrate after baseline"
assert_contains "$OUT" "applied 6 migrations" "applies only what comes after the baseline"

# mark-applied: the change was made by hand ("duplicate column")
fresh_db repair_mark
head_folder2=$WORK/head2
mkdir -p "$head_folder2/meta"
cp "$F"/000[0-2]_*.sql "$head_folder2/"
python3 - "$F/meta/_journal.json" "$head_folder2/meta/_journal.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); j["entries"] = j["entries"][:3]; open(sys.argv[2], "w").write(json.dumps(j, indent=2))
PY
run migrate --dir "$head_folder2"
q 'ALTER TABLE "posts" ADD COLUMN "published" boolean DEFAULT false NOT NULL'
run migrate --dir "$F"
assert_eq 1 "$RC" "the hand-made column makes 0003 fail"
assert_contains "$ERR" 'column "published" of relation "posts" already exists' "with PostgreSQL's message"
run mark-applied 0003_add_published_to_posts --dir "$F"
assert_eq 2 "$RC" "mark-applied without --reason is a usage error"
run mark-applied 0003_add_published_to_posts --dir "$F" --reason "added by hand during the incident"
assert_eq 0 "$RC" "mark-applied exits 0"
run migrate --dir "$F"
assert_eq 0 "$RC" "migrate goes on after mark-applied"
assert_eq "added by hand during the incident" "$(q "SELECT reason FROM dbkit.events WHERE action = 'mark-applied'")" "the reason is recorded"
assert_eq "postgres" "$(q "SELECT actor FROM dbkit.events WHERE action = 'mark-applied'")" "and who"

# accept-change and forget
printf '\n-- documented\n' >>"$F/0007_drop_avatar_url.sql"
run migrate --dir "$F"
assert_eq 1 "$RC" "edited applied file refused"
run accept-change 0007_drop_avatar_url --dir "$F" --reason "comment only"
assert_eq 0 "$RC" "accept-change exits 0"
run migrate --dir "$F"
assert_eq 0 "$RC" "migrate accepts the new hash"
assert_eq "$(sha256sum "$F/0007_drop_avatar_url.sql" | cut -d' ' -f1)" "$(q "SELECT hash FROM drizzle.__drizzle_migrations WHERE created_at = 1795644743151")" "drizzle's row carries the new hash"
q 'DROP TRIGGER "users_set_updated_at" ON "users"; DROP TRIGGER "posts_set_updated_at" ON "posts"; DROP FUNCTION "set_updated_at"()'
run forget 0008_add_updated_at_trigger --reason "rolled back by hand"
assert_eq 0 "$RC" "forget exits 0"
run migrate --dir "$F"
assert_contains "$OUT" "applied 1 migration" "the forgotten migration runs again"
run forget 0009_nope --reason x
assert_eq 1 "$RC" "forget of an unknown tag: exit 1"
assert_contains "$ERR" "0009_nope is not in the history" "names the tag"

# repairs find drizzle's table where migrate keeps it (--drizzle-schema / --drizzle-table)
fresh_db repair_custom_drizzle
run migrate --dir "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations" --drizzle-schema app_meta --drizzle-table migrations_log
assert_eq 9 "$(q 'SELECT count(*) FROM app_meta.migrations_log')" "migrate keeps the configured drizzle table"
q 'DROP TRIGGER "users_set_updated_at" ON "users"; DROP TRIGGER "posts_set_updated_at" ON "posts"; DROP FUNCTION "set_updated_at"()'
run forget 0008_add_updated_at_trigger --reason "rolled back" --drizzle-schema app_meta --drizzle-table migrations_log
assert_eq 0 "$RC" "forget with a configured drizzle table"
assert_eq 8 "$(q 'SELECT count(*) FROM app_meta.migrations_log')" "forget removes the row from the configured drizzle table"
assert_eq 0 "$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'drizzle'")" "and never touches drizzle's default schema"

# the drizzle-kit 1.0 folders layout: same SQL bytes, one folder per migration
L=$WORK/layout10
mkdir -p "$L"
python3 - "$F" "$L" "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations" <<'PY'
import json, os, shutil, sys, datetime
src, dst, orig = sys.argv[1:]
for e in json.load(open(os.path.join(orig, "meta/_journal.json")))["entries"]:
    name = datetime.datetime.utcfromtimestamp(e["when"] / 1000).strftime("%Y%m%d%H%M%S") + "_" + e["tag"].split("_", 1)[1]
    os.makedirs(os.path.join(dst, name))
    shutil.copyfile(os.path.join(orig, e["tag"] + ".sql"), os.path.join(dst, name, "migration.sql"))
PY
fresh_db layout10
run check --dir "$L"
assert_eq 0 "$RC" "check accepts the folders layout"
run migrate --dir "$L"
assert_eq 0 "$RC" "migrate applies the folders layout"
assert_contains "$OUT" "applied 9 migrations" "all nine"
run status --dir "$L"
assert_contains "$OUT" "9 applied" "status reads the folders layout"
assert_eq "20261125221150_initial_schema" "$(q 'SELECT tag FROM dbkit.migrations ORDER BY id LIMIT 1')" "tags are folder names"
mkdir -p "$L/meta" && cp "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations/meta/_journal.json" "$L/meta/"
run migrate --dir "$L"
assert_eq 1 "$RC" "both layouts at once: refused"
assert_contains "$ERR" "both meta/_journal.json" "says why"
finish
