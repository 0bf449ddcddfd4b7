#!/usr/bin/env bash
# What real projects' folders do that our fixtures did not (issue 11).
source "$DBKIT_SRC/tests/e2e/lib.sh"

# --- a UTF-8 byte order mark at the start of a file: hashed raw, executed without it
fresh_db e2e_bom
m=$WORK/bom
mkdir -p "$m"
printf '\xef\xbb\xbfCREATE TABLE "bom_users" ("id" serial PRIMARY KEY);--> statement-breakpoint\nCREATE INDEX "bom_users_id" ON "bom_users" ("id");' >"$m/0000_bom.sql"
printf 'ALTER TABLE "bom_users" ADD COLUMN "name" text;' >"$m/0001_plain.sql"
write_journal "$m" 0000_bom 0001_plain
run migrate --dir "$m"
assert_eq 0 "$RC" "a file that starts with a BOM applies (as psql runs it)"
assert_eq 2 "$(q "SELECT count(*) FROM pg_attribute WHERE attrelid = 'bom_users'::regclass AND attnum > 0")" "both migrations ran"
raw=$(sha256sum "$m/0000_bom.sql" | cut -d' ' -f1)
assert_eq "$raw" "$(q "SELECT hash FROM dbkit.migrations WHERE tag = '0000_bom'")" "the history hash covers the raw bytes, BOM included"
assert_eq "$raw" "$(q "SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id LIMIT 1")" "drizzle's row has drizzle's hash of the raw bytes"
run migrate --dir "$m"
assert_eq 0 "$RC" "a rerun is clean"
assert_contains "$OUT" "nothing to apply" "a rerun applies nothing"
run check --dir "$m"
assert_eq 0 "$RC" "a BOM at the start is a warning: check exits 0"
assert_contains "$OUT$ERR" "0000_bom.sql starts with a UTF-8 byte order mark" "check says drizzle's migrator would fail on it"

# a BOM inside the file (two files concatenated) is named by check, with its line
printf 'ALTER TABLE "bom_users" ADD COLUMN "a" text;--> statement-breakpoint\n\xef\xbb\xbfALTER TABLE "bom_users" ADD COLUMN "b" text;' >"$m/0002_stray.sql"
write_journal "$m" 0000_bom 0001_plain 0002_stray
run check --dir "$m"
assert_contains "$OUT$ERR" "migration.bom" "check names a BOM inside a file"
assert_contains "$OUT$ERR" "0002_stray.sql (line 2)" "the finding names the file and line"

# --- a name over 63 bytes: PostgreSQL's NOTICE becomes one finding with file and line, not a stray line
fresh_db e2e_longname
m=$WORK/long
mkdir -p "$m"
long=users_organization_membership_role_assignment_lookup_index_by_user
printf 'CREATE TABLE "members" ("user_id" integer);--> statement-breakpoint\nCREATE INDEX "%s" ON "members" ("user_id");--> statement-breakpoint\nDROP INDEX "%s";' "$long" "$long" >"$m/0000_long.sql"
write_journal "$m" 0000_long
run check --dir "$m" --json
assert_eq 0 "$RC" "a truncated name is a warning: check exits 0"
n=$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(f["code"]=="identifier.truncated" for f in d["findings"]))')
assert_eq 1 "$n" "the truncation is reported once, though the name appears twice"
assert_contains "$OUT" "0000_long.sql (line 2)" "the finding names the file and line"
sk=$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["skipped"]))')
assert_eq 0 "$sk" "no server NOTICE is left over as a skipped line"
run migrate --dir "$m"
assert_eq 0 "$RC" "the migration applies as PostgreSQL truncates the name"

# --- the same name inside drizzle-kit's DO block (before 0.30 every foreign key was written so):
# the parser never sees the statement inside, so the cut went unwarned (vercel/ai-chatbot, kanbn/kan)
fresh_db e2e_longname_do
m=$WORK/long_do
mkdir -p "$m"
fk=members_user_id_users_id_fk_with_a_name_well_over_sixty_three_bytes_long
printf 'CREATE TABLE "users" ("id" integer PRIMARY KEY);--> statement-breakpoint
CREATE TABLE "members" ("user_id" integer);--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "members" ADD CONSTRAINT "%s" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
' "$fk" >"$m/0000_do.sql"
write_journal "$m" 0000_do
run check --dir "$m" --json
assert_eq 0 "$RC" "DO block: a truncated name is a warning"
assert_contains "$OUT" "identifier.truncated" "DO block: the name cut inside the block is reported"
assert_contains "$OUT" "0000_do.sql (line 4)" "DO block: with the line of the statement inside"

# --- check severities: a snapshot whose parent was deleted long ago is a warning (drizzle-kit accepts it)
m=$WORK/dangling
cp -r "$DBKIT_SRC/tests/fixtures/drizzle-saas/migrations" "$m"
rm "$m/meta/0000_snapshot.json"
run check --dir "$m" --offline
assert_eq 0 "$RC" "a dangling prevId and a missing snapshot do not fail check"
assert_contains "$OUT" "snapshot.prev_missing" "the dangling prevId is still reported"
assert_contains "$OUT" "warning" "as a warning"

# --- drift found before a deploy is carried forward, never absorbed, across two deploys
fresh_db e2e_carry
m=$WORK/carry
mkdir -p "$m"
printf 'CREATE TABLE "accounts" ("id" serial PRIMARY KEY);' >"$m/0000_accounts.sql"
write_journal "$m" 0000_accounts
run migrate --dir "$m"
assert_eq 0 "$RC" "carry: first deploy"
q "CREATE TABLE oob_report (id integer)"
q "ALTER TABLE accounts ADD COLUMN oob_note text"
printf 'CREATE TABLE "invoices" ("id" serial PRIMARY KEY);' >"$m/0001_invoices.sql"
write_journal "$m" 0000_accounts 0001_invoices
run migrate --dir "$m"
assert_eq 0 "$RC" "carry: a deploy with drift present still applies"
assert_contains "$ERR" "not taken into the reference this run records" "the deploy warns that the drift is carried, not absorbed"
run drift --json
assert_eq 4 "$RC" "after one deploy the out-of-band changes are still drift"
assert_contains "$OUT" "oob_report" "the out-of-band table is reported"
assert_contains "$OUT" "oob_note" "the out-of-band column is reported"
assert_not_contains "$OUT" "invoices" "what the migration made is not drift"
# a second deploy, whose migration makes one change legitimate (it drops the stray table)
printf 'DROP TABLE "oob_report";--> statement-breakpoint\nCREATE TABLE "payments" ("id" serial PRIMARY KEY);' >"$m/0002_payments.sql"
write_journal "$m" 0000_accounts 0001_invoices 0002_payments
run migrate --dir "$m"
assert_eq 0 "$RC" "carry: second deploy"
run drift --json
assert_eq 4 "$RC" "after two deploys the remaining change is still drift"
objects=$(printf '%s' "$OUT" | python3 -c '
import json, sys
print(" ".join(sorted(r["object"] for r in json.load(sys.stdin)["migrations"])))')
assert_eq "public.accounts.oob_note" "$objects" "only the out-of-band column is still drift (the table a migration dropped and the deploys' own tables are not)"
assert_contains "$OUT" "ALTER TABLE accounts ADD COLUMN oob_note" "its audit entry from before both deploys still explains it"
run accept-drift --reason "oob_note is meant to stay"
assert_eq 0 "$RC" "accept-drift"
run drift
assert_eq 0 "$RC" "after accept-drift there is no drift"

finish
