#!/usr/bin/env bash
# No false drift: after every fixture folder is migrated, after VACUUM FULL and
# ANALYZE, and after pg_dump -Fc + pg_restore into a new database, which keeps
# dbkit's history, snapshots and DDL audit. A pg_monitor role reads status and
# drift and cannot write anything of dbkit's.
source "$(dirname "$0")/lib.sh"

# The rows of dbkit_drift() in $1, one line each; empty: no drift.
drift_rows() {
	"${PSQL[@]}" -d "$1" -c "SELECT kind || ' ' || object || ' ' || change || ': ' || detail FROM dbkit_drift() ORDER BY 1" 2>&1
}
assert_no_drift() { # db message
	assert_eq "" "$(drift_rows "$1")" "$2: dbkit_drift() is empty"
	assert_eq 0 "$("${PSQL[@]}" -d "$1" -c 'SELECT count(*) FROM dbkit_drift()' 2>&1)" "$2: count(*) FROM dbkit_drift() is 0"
}
# What a dump must keep: the history, the stored snapshots, the DDL audit trail.
dbkit_state() {
	"${PSQL[@]}" -d "$1" -c 'SELECT tag, hash FROM dbkit.migrations ORDER BY id' \
		-c 'SELECT id, tag, fingerprint FROM dbkit.snapshots ORDER BY id' \
		-c 'SELECT id, event, command_tag, object_identity FROM dbkit.ddl_audit ORDER BY id' \
		-c 'SELECT id, action, tag, reason FROM dbkit.events ORDER BY id'
}
# pg_dump -Fc $1, pg_restore into a new database $2; sets RESTORE_RC, RESTORE_ERR.
dump_restore() {
	pg_dump -Fc -d "$1" -f "$WORK/$1.dump"
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS \"$2\""
	createdb "$2"
	set +e
	pg_restore -d "$2" "$WORK/$1.dump" 2>"$WORK/restore.err"
	RESTORE_RC=$?
	set -e
	RESTORE_ERR=$(cat "$WORK/restore.err")
}
# Migrate, maintenance, dump and restore of one folder into database $2.
check_folder() { # folder db
	local f=$1 db=$2
	fresh_db "$db"
	run migrate --dir "$f"
	assert_eq 0 "$RC" "$f: migrate exits 0"
	assert_no_drift "$db" "$f: after migrate"

	q 'VACUUM FULL'
	q 'ANALYZE'
	assert_no_drift "$db" "$f: after VACUUM FULL and ANALYZE"

	local state live
	state=$(dbkit_state "$db")
	live=$(q 'SELECT md5(dbkit_snapshot()::text)')
	dump_restore "$db" "${db}_restored"
	assert_eq 0 "$RESTORE_RC" "$f: pg_restore exits 0"
	assert_eq "" "$RESTORE_ERR" "$f: pg_restore prints nothing"
	assert_eq "$(q 'SELECT tag, hash FROM dbkit.migrations ORDER BY id')" \
		"$("${PSQL[@]}" -d "${db}_restored" -c 'SELECT tag, hash FROM dbkit.migrations ORDER BY id')" \
		"$f: restored history has the same tags and hashes"
	assert_eq "$state" "$(dbkit_state "${db}_restored")" "$f: restored history, snapshots, events and DDL audit are the same"
	assert_eq "$live" "$("${PSQL[@]}" -d "${db}_restored" -c 'SELECT md5(dbkit_snapshot()::text)')" \
		"$f: the restored schema has the same snapshot"
	assert_no_drift "${db}_restored" "$f: after pg_dump and pg_restore"
}

# Every folder of the fixtures and the examples.
folders=()
for d in "$DBKIT_SRC"/tests/fixtures/*/; do
	while IFS= read -r j; do folders+=("$(dirname "$(dirname "$j")")"); done < <(find "$d" -path '*/meta/_journal.json')
	while IFS= read -r m; do folders+=("$(dirname "$(dirname "$m")")"); done < <(find "$d" -mindepth 3 -name migration.sql)
done
folders+=("$DBKIT_SRC/examples/migrations")
mapfile -t folders < <(printf '%s\n' "${folders[@]}" | sort -u)
((${#folders[@]} > 1)) || fail "no fixture folders found"

# And one folder with every kind of object the snapshot describes, including
# what a dump rebuilds differently: dropped columns, a partition attached with
# its columns in another order, inheritance, identity, generated and collated
# columns, an enum label placed before another.
K=$WORK/all-kinds
mkdir -p "$K/meta"
cat >"$K/0000_all_kinds.sql" <<'SQL'
CREATE EXTENSION IF NOT EXISTS citext;
--> statement-breakpoint
CREATE SCHEMA "shop";
--> statement-breakpoint
CREATE TYPE "shop"."status" AS ENUM('draft', 'live');
--> statement-breakpoint
ALTER TYPE "shop"."status" ADD VALUE 'review' BEFORE 'live';
--> statement-breakpoint
CREATE DOMAIN "shop"."price" AS numeric(10, 2) NOT NULL DEFAULT 0 CONSTRAINT "price_positive" CHECK (VALUE >= 0);
--> statement-breakpoint
CREATE TYPE "shop"."dims" AS ("w" integer, "h" integer);
--> statement-breakpoint
CREATE SEQUENCE "shop"."invoice_no" START 1000 INCREMENT 10 CACHE 5;
--> statement-breakpoint
CREATE TABLE "shop"."customers" (
	"id" serial PRIMARY KEY,
	"email" citext NOT NULL UNIQUE,
	"legacy" text,
	"name" text COLLATE "C",
	"created_at" timestamptz DEFAULT '2024-01-01 00:00:00+00' NOT NULL,
	"ttl" interval DEFAULT '1 day 02:00:00'
);
--> statement-breakpoint
ALTER TABLE "shop"."customers" DROP COLUMN "legacy";
--> statement-breakpoint
CREATE TABLE "shop"."products" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (START WITH 10) PRIMARY KEY,
	"sku" text NOT NULL,
	"status" "shop"."status" DEFAULT 'draft' NOT NULL,
	"price" "shop"."price",
	"qty" integer DEFAULT 0 NOT NULL,
	"stock_value" numeric GENERATED ALWAYS AS (price * qty) STORED,
	"size" "shop"."dims",
	"during" tstzrange,
	CONSTRAINT "products_qty_check" CHECK (qty >= 0),
	CONSTRAINT "products_no_overlap" EXCLUDE USING gist ("during" WITH &&)
) WITH (fillfactor = 80);
--> statement-breakpoint
CREATE UNIQUE INDEX "products_sku_idx" ON "shop"."products" (lower("sku")) WHERE "status" <> 'draft';
--> statement-breakpoint
CREATE TABLE "shop"."orders" (
	"id" bigint NOT NULL,
	"customer_id" integer NOT NULL REFERENCES "shop"."customers" ("id") ON DELETE CASCADE,
	"dropped" text,
	"placed_on" date NOT NULL,
	"note" text,
	PRIMARY KEY ("id", "placed_on")
) PARTITION BY RANGE ("placed_on");
--> statement-breakpoint
CREATE TABLE "shop"."orders_2024" PARTITION OF "shop"."orders" FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
--> statement-breakpoint
ALTER TABLE "shop"."orders" DROP COLUMN "dropped";
--> statement-breakpoint
CREATE TABLE "shop"."orders_2025" ("note" text, "placed_on" date NOT NULL, "customer_id" integer NOT NULL, "id" bigint NOT NULL);
--> statement-breakpoint
ALTER TABLE "shop"."orders" ATTACH PARTITION "shop"."orders_2025" FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
--> statement-breakpoint
CREATE TABLE "shop"."orders_default" PARTITION OF "shop"."orders" DEFAULT;
--> statement-breakpoint
CREATE INDEX "orders_customer_idx" ON "shop"."orders" ("customer_id");
--> statement-breakpoint
CREATE TABLE "shop"."audit_base" ("id" integer, "at" timestamptz DEFAULT now());
--> statement-breakpoint
CREATE TABLE "shop"."audit_child" ("extra" text) INHERITS ("shop"."audit_base");
--> statement-breakpoint
CREATE UNLOGGED TABLE "shop"."cache" ("k" text PRIMARY KEY, "v" jsonb);
--> statement-breakpoint
ALTER TABLE "shop"."customers" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "shop"."customers" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY "customers_self" ON "shop"."customers" AS RESTRICTIVE FOR SELECT TO public USING (email IS NOT NULL);
--> statement-breakpoint
CREATE POLICY "customers_write" ON "shop"."customers" FOR INSERT WITH CHECK (name IS NOT NULL);
--> statement-breakpoint
CREATE VIEW "shop"."live_products" AS SELECT id, sku, price FROM shop.products WHERE status = 'live';
--> statement-breakpoint
CREATE MATERIALIZED VIEW "shop"."stock" AS SELECT status, sum(stock_value) AS value FROM shop.products GROUP BY status;
--> statement-breakpoint
CREATE INDEX "stock_status_idx" ON "shop"."stock" ("status");
--> statement-breakpoint
CREATE FUNCTION "shop"."discount"(p numeric, pct integer DEFAULT 10) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT p * (100 - pct) / 100 $$;
--> statement-breakpoint
CREATE FUNCTION "shop"."touch"() RETURNS trigger LANGUAGE plpgsql SET search_path = shop, pg_temp AS $$ BEGIN NEW.note := coalesce(NEW.note, 'n/a'); RETURN NEW; END $$;
--> statement-breakpoint
CREATE PROCEDURE "shop"."restock"(IN pid bigint, INOUT added integer DEFAULT 1) LANGUAGE plpgsql AS $$ BEGIN UPDATE shop.products SET qty = qty + added WHERE id = pid; END $$;
--> statement-breakpoint
CREATE TRIGGER "orders_touch" BEFORE INSERT ON "shop"."orders" FOR EACH ROW EXECUTE FUNCTION "shop"."touch"();
--> statement-breakpoint
CREATE TRIGGER "customers_touch" AFTER UPDATE OF "name" ON "shop"."customers" FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION "shop"."touch"();
--> statement-breakpoint
ALTER TABLE "shop"."customers" DISABLE TRIGGER "customers_touch";
--> statement-breakpoint
CREATE AGGREGATE "shop"."total"(numeric) (SFUNC = numeric_add, STYPE = numeric, INITCOND = '0');
--> statement-breakpoint
COMMENT ON TABLE "shop"."products" IS 'what we sell';
--> statement-breakpoint
INSERT INTO "shop"."customers" ("email", "name") VALUES ('a@example.com', 'a');
--> statement-breakpoint
INSERT INTO "shop"."products" ("sku", "status", "price", "qty") VALUES ('a-1', 'live', 9.5, 3), ('b-2', 'draft', 1, 0);
--> statement-breakpoint
INSERT INTO "shop"."orders" ("id", "customer_id", "placed_on") VALUES (1, 1, '2024-05-01'), (2, 1, '2025-05-01'), (3, 1, '2030-01-01');
SQL
cat >"$K/0001_more.sql" <<'SQL'
ALTER TABLE "shop"."products" ADD COLUMN "weight" real DEFAULT 1.5;
--> statement-breakpoint
ALTER TABLE "shop"."customers" RENAME COLUMN "name" TO "full_name";
--> statement-breakpoint
ALTER TYPE "shop"."status" ADD VALUE 'retired';
--> statement-breakpoint
ALTER TABLE "shop"."products" DROP COLUMN "size";
--> statement-breakpoint
REFRESH MATERIALIZED VIEW "shop"."stock";
SQL
cat >"$K/meta/_journal.json" <<'JSON'
{
  "version": "7",
  "dialect": "postgresql",
  "entries": [
    { "idx": 0, "version": "7", "when": 1795646420937, "tag": "0000_all_kinds", "breakpoints": true },
    { "idx": 1, "version": "7", "when": 1795646520937, "tag": "0001_more", "breakpoints": true }
  ]
}
JSON
folders+=("$K")

i=0
for f in "${folders[@]}"; do
	i=$((i + 1))
	check_folder "$f" "drift_$i"
done

# A database with a DDL audit trail (a change made by hand, then accepted):
# the dump keeps the trail, and the restore neither fails on it nor adds to it.
fresh_db drift_audited
run migrate --dir "$K"
assert_eq 0 "$RC" "audited: migrate exits 0"
q 'CREATE INDEX "customers_created_at_idx" ON "shop"."customers" ("created_at")'
assert_eq "index shop.customers_created_at_idx added: index shop.customers_created_at_idx exists but no migration created it" \
	"$(drift_rows drift_audited)" "audited: the hand-made index is drift"
assert_eq "CREATE INDEX" "$(q "SELECT audit->0->>'command' FROM dbkit_drift()")" "audited: with its audit entry"
q "SELECT dbkit_accept_drift('index made during the load test') IS NOT NULL" >/dev/null
assert_no_drift drift_audited "audited: after accept-drift"
state=$(dbkit_state drift_audited)
assert_contains "$state" "CREATE INDEX|shop.customers_created_at_idx" "audited: the trail holds the hand-made index"
dump_restore drift_audited drift_audited_restored
assert_eq 0 "$RESTORE_RC" "audited: pg_restore exits 0"
assert_eq "" "$RESTORE_ERR" "audited: pg_restore prints nothing"
assert_eq "$state" "$(dbkit_state drift_audited_restored)" "audited: history, snapshots, events and DDL audit restored unchanged"
assert_no_drift drift_audited_restored "audited: after pg_dump and pg_restore"

# The monitor role: reads status and drift, writes nothing.
MDB=drift_monitor
fresh_db "$MDB"
run migrate --dir "$DBKIT_SRC/examples/migrations"
assert_eq 0 "$RC" "monitor: migrate exits 0"
"${PSQL[@]}" -d postgres -c 'DROP ROLE IF EXISTS dbkit_monitor' -c 'CREATE ROLE dbkit_monitor LOGIN IN ROLE pg_monitor'
as_monitor() { # psql args; sets MRC, MOUT (stdout and stderr)
	set +e
	MOUT=$(PGUSER=dbkit_monitor "${PSQL[@]}" -d "$MDB" "$@" 2>&1)
	MRC=$?
	set -e
}
before=$(dbkit_state "$MDB")
n=$(q 'SELECT count(*) FROM dbkit.migrations')

as_monitor -c 'SELECT count(*) FROM dbkit_status()'
assert_eq "0 $n" "$MRC $MOUT" "monitor: dbkit_status() works"
as_monitor -c 'SELECT count(*) FROM dbkit_drift()'
assert_eq "0 0" "$MRC $MOUT" "monitor: dbkit_drift() works"
as_monitor -c 'SELECT count(*) >= 0 FROM dbkit.snapshots, dbkit.ddl_audit, dbkit.events'
assert_eq "0 t" "$MRC $MOUT" "monitor: reads dbkit's tables"
set +e
MOUT=$(PGUSER=dbkit_monitor PGDATABASE=$MDB "$DBKIT" status 2>&1)
MRC=$?
set -e
assert_eq 0 "$MRC" "monitor: dbkit status exits 0"

denied() { # sql message
	as_monitor -c "$1"
	assert_eq fails "$( ((MRC != 0)) && echo fails || echo "succeeds: $MOUT")" "monitor: $2 fails"
	assert_contains "$MOUT" "permission denied" "monitor: $2 is denied"
}
denied "INSERT INTO dbkit.migrations (tag, idx, hash, how) VALUES ('0099_evil', 99, 'x', 'applied')" "INSERT INTO dbkit.migrations"
denied 'DELETE FROM dbkit.snapshots' "DELETE FROM dbkit.snapshots"
denied "UPDATE dbkit.ddl_audit SET statement = ''" "UPDATE dbkit.ddl_audit"
denied "SELECT dbkit_accept_drift('x')" "dbkit_accept_drift"
# once dbkit is loaded in the session, the setting refuses a non-superuser
as_monitor -c 'SELECT count(*) FROM dbkit_drift()' -c 'SET dbkit.audit = off'
assert_eq fails "$( ((MRC != 0)) && echo fails || echo "succeeds: $MOUT")" "monitor: SET dbkit.audit = off fails"
assert_contains "$MOUT" 'permission denied to set parameter "dbkit.audit"' "monitor: SET dbkit.audit = off is denied"
# before dbkit is loaded, PostgreSQL accepts it as a placeholder; loading dbkit
# then rejects it and auditing stays on
as_monitor -c 'SET dbkit.audit = off' -c 'SELECT count(*) FROM dbkit_drift()' -c 'SHOW dbkit.audit'
assert_contains "$MOUT" 'permission denied to set parameter "dbkit.audit"' "monitor: an early SET dbkit.audit = off is rejected"
assert_eq on "$(tail -n 1 <<<"$MOUT")" "monitor: auditing stays on"
# nor can the client apply anything as the monitor role
M=$WORK/monitor-folder
copy_fixture "$DBKIT_SRC/examples/migrations" "$M"
printf 'CREATE TABLE "evil" ("id" integer);\n' >"$M/0099_evil.sql"
python3 - "$M/meta/_journal.json" <<'PY'
import json, sys
p = sys.argv[1]; j = json.load(open(p))
j["entries"].append({"idx": len(j["entries"]), "version": "7", "when": j["entries"][-1]["when"] + 1000, "tag": "0099_evil", "breakpoints": True})
open(p, "w").write(json.dumps(j, indent=2))
PY
set +e
MOUT=$(PGUSER=dbkit_monitor PGDATABASE=$MDB "$DBKIT" migrate --dir "$M" 2>&1)
MRC=$?
set -e
assert_eq 1 "$MRC" "monitor: dbkit migrate exits 1"
assert_contains "$MOUT" "permission denied" "monitor: dbkit migrate is denied"
assert_eq "$before" "$(dbkit_state "$MDB")" "monitor: history, snapshots, events and DDL audit unchanged"
assert_eq "" "$(q "SELECT relname FROM pg_class WHERE relname = 'evil'")" "monitor: nothing was created"
"${PSQL[@]}" -d postgres -c 'DROP ROLE dbkit_monitor'

# --- a restore of a database whose newest reference is kept per object (any deploy after
# the first): the dump has the snapshot row, not the per-object copy. drift said every
# object was added (exit 4) and the next migrate carried all of it forward for good.
case_begin "restore: a per-object reference is not in the dump"
fresh_db drift_restore_inc
R=$WORK/restore-inc
mkdir -p "$R"
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY);' >"$R/0000_a.sql"
write_journal "$R" 0000_a
run migrate --dir "$R"
printf 'CREATE TABLE "b" ("id" integer PRIMARY KEY);' >"$R/0001_b.sql"
write_journal "$R" 0000_a 0001_b
run migrate --dir "$R"
wait_settled
assert_eq "t" "$(q 'SELECT snapshot IS NULL FROM dbkit.snapshots ORDER BY id DESC LIMIT 1')" "restore: the newest reference is per object"
dump_restore drift_restore_inc drift_restore_inc2
assert_eq 0 "$RESTORE_RC" "restore: pg_restore exits 0"
PGDATABASE=drift_restore_inc2 run drift
assert_eq 1 "$RC" "restore: drift cannot be told, and says so (not exit 4)"
assert_contains "$ERR" "is not in this database (pg_dump and pg_restore copy" "restore: why"
assert_contains "$ERR" "dbkit accept-drift" "restore: what to do"
assert_not_contains "$OUT$ERR" "exists but no migration created it" "restore: no object called new"
printf 'CREATE TABLE "c" ("id" integer PRIMARY KEY);' >"$R/0002_c.sql"
write_journal "$R" 0000_a 0001_b 0002_c
PGDATABASE=drift_restore_inc2 run migrate --dir "$R"
assert_eq 0 "$RC" "restore: the next deploy runs${ERR:+: $ERR}"
assert_contains "$OUT$ERR" "the reference this run records is the schema as it is now" "restore: and says what it records"
PGDATABASE=drift_restore_inc2 run drift
assert_eq 0 "$RC" "restore: then drift is clean: $OUT $ERR"
"${PSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS drift_restore_inc2' >/dev/null

# --- one command by hand is one audit line, though it fires two events (ddl_command_end
# and sql_drop): the statement was listed twice under a dropped constraint
case_begin "audit: one line per command"
fresh_db drift_audit_once
q 'CREATE TABLE t (a int CONSTRAINT t_a_check CHECK (a > 0))'
q "SELECT count(*) FROM dbkit_accept_drift('base')" >/dev/null
q 'ALTER TABLE t DROP CONSTRAINT t_a_check'
assert_eq "1" "$(q "SELECT count(*) FROM dbkit_drift()")" "audit: the dropped check is one difference"
assert_eq "1" "$(q "SELECT jsonb_array_length(audit) FROM dbkit_drift() WHERE object LIKE '%t_a_check'")" \
	"audit: the DROP CONSTRAINT is listed once"
# Event triggers do not fire under session_replication_role = replica (a backfill idiom in
# a migration) nor while disabled: the run's objects were left out of the reference, and
# drift later called the migration's own column a hand change (found by an attack).
case_begin "audit blind: replica role in a migration, event triggers disabled"
fresh_db drift_blind
B=$WORK/blind
mkdir -p "$B"
printf 'CREATE TABLE "users" ("id" integer PRIMARY KEY);\n' >"$B/0000_users.sql"
printf '%s\n' 'SET session_replication_role = replica;' '--> statement-breakpoint' 'ALTER TABLE "users" ADD COLUMN "legacy_id" integer;' \
	'--> statement-breakpoint' 'SET session_replication_role = DEFAULT;' >"$B/0001_backfill.sql"
write_journal "$B"
run migrate --dir "$B"
assert_eq 0 "$RC" "blind: migrates: $ERR"
assert_eq t "$(q "SELECT dbkit.reference() ? 'column:public.users.legacy_id'")" "blind: the column made under replica mode is in the reference"
q "CREATE ROLE drift_blind_unrelated; DROP ROLE drift_blind_unrelated"
run drift
assert_eq 0 "$RC" "blind: a later full read finds no drift: $OUT"
q "ALTER EVENT TRIGGER dbkit_audit_ddl DISABLE; ALTER EVENT TRIGGER dbkit_audit_drop DISABLE"
E2E_CLEANUP+=("${PSQL[*]} -d drift_blind -c 'ALTER EVENT TRIGGER dbkit_audit_ddl ENABLE; ALTER EVENT TRIGGER dbkit_audit_drop ENABLE' >/dev/null 2>&1")
q "SELECT count(*) FROM dbkit_accept_drift('maintenance')" >/dev/null
printf 'ALTER TABLE "users" ADD COLUMN "nick" text;\n' >"$B/0002_nick.sql"
write_journal "$B"
run migrate --dir "$B"
assert_eq 0 "$RC" "blind: a deploy while the triggers are disabled: $ERR"
assert_eq t "$(q "SELECT dbkit.reference() ? 'column:public.users.nick'")" "blind: its column is in the reference"
q 'ALTER TABLE users ADD COLUMN "hand" text'
run drift
assert_eq 4 "$RC" "blind: a change by hand is found while the triggers are disabled"
assert_contains "$OUT" "public.users.hand" "blind: named"
assert_not_contains "$OUT" "public.users.nick" "blind: the deploy's own column is not drift"
assert_contains "$ERR" "dbkit's event triggers are disabled" "blind: and the reader is told the audit is off"
q "ALTER EVENT TRIGGER dbkit_audit_ddl ENABLE; ALTER EVENT TRIGGER dbkit_audit_drop ENABLE"

# one query string of several commands: each line says which command of it
q 'CREATE TABLE t2 (id int PRIMARY KEY); ALTER TABLE t2 ADD COLUMN x int'
run drift
assert_contains "$OUT" ": ALTER TABLE public.t2, in: CREATE TABLE t2 (id int PRIMARY KEY); ALTER TABLE t2 ADD COLUMN x int" \
	"audit: the command of a query string of several"

finish
