#!/usr/bin/env bash
# make demo: a private throwaway cluster, the examples/ folder migrated, status shown.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/pgcluster.sh"
DBKIT=${DBKIT:-$here/build/client/dbkit}
trap pg_cluster_stop EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*" 2>/dev/null || printf '\n== %s\n' "$*"; }
[[ -t 1 ]] || say() { printf '\n== %s\n' "$*"; }

say "Starting a private PostgreSQL 15 cluster (not the system one)"
pg_cluster_start
echo "socket directory $PGHOST, superuser postgres"
psql -X -q -c 'CREATE DATABASE app'
export PGDATABASE=app
"$DBKIT" init

# Work on a copy: the demo edits a file later on.
work=$(mktemp -d /tmp/dbkit-demo.XXXXXX)
trap 'rm -rf "$work"; pg_cluster_stop' EXIT
cp -r "$here/examples/migrations" "$work/migrations"

say "dbkit status --dir examples/migrations   (before)"
"$DBKIT" status --dir "$work/migrations"

say "dbkit migrate --dir examples/migrations"
"$DBKIT" migrate --dir "$work/migrations"

say "dbkit migrate again: nothing to do"
"$DBKIT" migrate --dir "$work/migrations"

say "psql: SELECT tag, how, statements, round(duration_ms::numeric, 1) AS ms FROM dbkit_status();"
psql -X -c 'SELECT tag, how, statements, round(duration_ms::numeric, 1) AS ms, applied_by FROM dbkit_status()'

say "drizzle's own table is kept in step, so drizzle's migrator finds nothing to apply"
psql -X -c 'SELECT id, left(hash, 16) AS hash, created_at FROM drizzle.__drizzle_migrations ORDER BY id'

say "dbkit drift --dir examples/migrations: no drift yet (exit code 0)"
set +e
"$DBKIT" drift --dir "$work/migrations"
echo "exit code: $?"
set -e

say "Someone changes the schema by hand, outside the migrations"
echo '$ PGAPPNAME=hotfix-console psql -c "ALTER TABLE users ADD COLUMN nickname text; DROP INDEX api_keys_org_id_idx;"'
PGAPPNAME=hotfix-console psql -X -q -c 'ALTER TABLE users ADD COLUMN nickname text' -c 'DROP INDEX IF EXISTS api_keys_org_id_idx'

say "dbkit drift catches it: what changed, who did it, and how far it is from the code (exit code 4)"
set +e
"$DBKIT" drift --dir "$work/migrations"
echo "exit code: $?"
set -e

say "After review, the change is accepted as the new reference (recorded with the reason)"
"$DBKIT" accept-drift --reason "nickname column added during incident 42; index dropped on purpose"

say "Someone edits an applied migration: dbkit refuses, and says what to do (exit code 1)"
last=$(ls "$work/migrations"/*.sql | tail -n 1)
printf '\n-- edited after it was applied\n' >>"$last"
set +e
"$DBKIT" migrate --dir "$work/migrations"
echo "exit code: $?"
set -e

say "A new migration with a mistake: the error names the file, statement and line; nothing is applied"
cp "$here/examples/migrations/$(basename "$last")" "$last"
python3 - "$work/migrations/meta/_journal.json" <<'PY'
import json, sys
p = sys.argv[1]; j = json.load(open(p))
n = len(j["entries"])
j["entries"].append({"idx": n, "version": "7", "when": j["entries"][-1]["when"] + 1000,
                     "tag": f"{n:04d}_add_post_tags", "breakpoints": True})
open(p, "w").write(json.dumps(j, indent=2))
PY
n=$(ls "$work/migrations"/*.sql | wc -l)
tag=$(printf '%04d_add_post_tags' "$n")
printf 'CREATE TABLE "post_tags" ("post_id" uuid NOT NULL, "tag" text NOT NULL);\n--> statement-breakpoint\nALTER TABLE "post_tags" ADD CONSTRAINT "post_tags_post_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."postz"("id") ON DELETE cascade;' >"$work/migrations/$tag.sql"
set +e
"$DBKIT" migrate --dir "$work/migrations"
echo "exit code: $?"
set -e
sed -i 's/"postz"/"posts"/' "$work/migrations/$tag.sql"
say "Fixed: the rerun applies it"
"$DBKIT" migrate --dir "$work/migrations"

say "dbkit status --dir examples/migrations   (after)"
"$DBKIT" status --dir "$work/migrations"
echo
echo "Demo done; the throwaway cluster is removed."
echo
echo "Try the studio (migrations, drift, schema, data and a query console in your browser) on a database of yours:"
echo "  $DBKIT studio --dir examples/migrations --url postgres://user@localhost/app    # prints a URL with its token; add --open"
