#!/usr/bin/env bash
# docs/ci.md's GitHub Actions workflow (docs/ci/dbkit.yml), parsed and run step by step against the e2e
# cluster the way the runner would: each job's `run:` commands in order, with bash -eo pipefail, in a
# checkout of a project, with the workflow's and the job's env (DATABASE_URL pointed at a database of the
# private cluster, the libpq variables unset so only DATABASE_URL can reach it). The `uses:` steps (checkout)
# and the "Install dbkit" steps are stood in for: the project copy, and this tree's client on PATH.
# Then the package.json snippet of docs/ci.md through npm. Needs python3-yaml (scripts/setup.sh) and npm.
source "$(dirname "$0")/lib.sh"
python3 -c 'import yaml' 2>/dev/null || { echo "FAIL: python3 cannot import yaml: apt-get install python3-yaml (make setup does)" >&2; exit 1; }
command -v npm >/dev/null || { echo "FAIL: npm is not installed: this test runs the package.json scripts with it" >&2; exit 1; }
YML=$DBKIT_SRC/docs/ci/dbkit.yml
MD=$DBKIT_SRC/docs/ci.md
EX=$DBKIT_SRC/examples/migrations
N_EX=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["entries"]))' "$EX/meta/_journal.json")

# docs/ci.md shows the file itself
python3 - "$MD" "$YML" >"$WORK/same" <<'PY'
import re, sys
md = open(sys.argv[1]).read(); yml = open(sys.argv[2]).read()
blocks = re.findall(r"```yaml\n(.*?)```", md, re.S)
print("yes" if yml in blocks else "no")
PY
assert_eq yes "$(cat "$WORK/same")" "docs/ci.md's yaml block is docs/ci/dbkit.yml"

# Parse: one directory per job with its env and its steps.
python3 - "$YML" "$WORK/plan" >"$WORK/parse.out" <<'PY'
import os, sys, yaml
wf = yaml.safe_load(open(sys.argv[1])); out = sys.argv[2]
on = wf.get("on", wf.get(True))          # YAML 1.1 reads the key `on` as true
print("on:", " ".join(sorted(on)))
shell = wf.get("defaults", {}).get("run", {}).get("shell")
print("shell:", shell)
for job, spec in wf["jobs"].items():
    d = os.path.join(out, job); os.makedirs(d)
    env = dict(wf.get("env", {})); env.update(spec.get("env", {}))
    with open(os.path.join(d, "env"), "w") as f:
        for k, v in env.items():
            f.write(f"{k}\t{v}\n")
    open(os.path.join(d, "if"), "w").write(spec.get("if", ""))
    open(os.path.join(d, "services"), "w").write(" ".join(spec.get("services", {})))
    for i, st in enumerate(spec["steps"]):
        p = os.path.join(d, f"{i:02d}")
        if "uses" in st:
            open(p + ".uses", "w").write(st["uses"])
        else:
            open(p + ".run", "w").write(st["run"])
            open(p + ".name", "w").write(st.get("name", st["run"]))
PY
PARSE=$(cat "$WORK/parse.out")
assert_contains "$PARSE" "on: pull_request push schedule workflow_dispatch" "triggers: pull requests, pushes, a schedule"
assert_contains "$PARSE" "shell: bash" "steps run with bash"
assert_eq "check drift dry-run migrate" "$(ls "$WORK/plan" | LC_ALL=C sort | xargs)" "four jobs"
assert_contains "$(cat "$WORK/plan/check/if")" "pull_request" "check gates pull requests"
assert_contains "$(cat "$WORK/plan/dry-run/if")" "pull_request" "the dry run runs on pull requests"
assert_eq postgres "$(cat "$WORK/plan/dry-run/services")" "the dry run has a postgres service container"
assert_contains "$(cat "$WORK/plan/migrate/if")" "refs/heads/main" "migrate runs on main"
assert_contains "$(cat "$WORK/plan/drift/if")" "schedule" "drift runs on the schedule"
assert_contains "$(cat "$WORK/plan/check"/*.run)" "dbkit check --offline" "check runs dbkit check --offline"
assert_contains "$(cat "$WORK/plan/dry-run"/*.run)" "dbkit lint" "the dry-run job lints"
assert_contains "$(cat "$WORK/plan/dry-run"/*.run)" "dbkit migrate --dry-run" "the dry-run job runs migrate --dry-run"
assert_contains "$(cat "$WORK/plan/migrate"/*.run)" "dbkit migrate --dir" "migrate runs dbkit migrate"
assert_contains "$(cat "$WORK/plan/drift"/*.run)" "dbkit drift" "drift runs dbkit drift"
for j in dry-run migrate drift; do
	assert_contains "$(cut -f1 "$WORK/plan/$j/env")" DATABASE_URL "$j: DATABASE_URL in its env"
done

# The stand-ins: a checkout of a project with the examples, and `dbkit` on PATH.
mkdir -p "$WORK/bin" "$WORK/repo/src/db" "$WORK/repo/tools"
ln -s "$DBKIT" "$WORK/bin/dbkit"
cp -r "$EX" "$WORK/repo/src/db/migrations"
"${PSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS ci_recipe' -c 'CREATE DATABASE ci_recipe'
URL="postgresql:///ci_recipe?host=$PGHOST&port=$PGPORT&user=$PGUSER"
export PGDATABASE=ci_recipe

SKIPPED=()
# run_job JOB REPO: every step in order, as the runner would; sets JOB_RC (the failing step's code, else 0)
# and JOB_OUT. A step's URL-like env value (the service's, or ${{ secrets.DATABASE_URL }}) becomes $URL.
run_job() {
	local job=$1 repo=$2 d="$WORK/plan/$1" f env=()
	while IFS=$'\t' read -r k v; do
		if [[ $v == *'${{'* || $v == *://* ]]; then v=$URL; fi
		env+=("$k=$v")
	done <"$d/env"
	JOB_RC=0
	JOB_OUT=""
	for f in "$d"/*; do
		case $f in
		*.uses) [[ $(cat "$f") == actions/checkout@* ]] || { fail "$job: unknown action $(cat "$f")"; JOB_RC=99; return; } ;;
		*.run)
			local name
			name=$(cat "${f%.run}.name")
			# the install step installs on the host: never run here, whatever its name
			if [[ $name == "Install dbkit" ]] || grep -qE '(^|[^[:alnum:]_-])(apt-get|apt|sudo|dpkg)([^[:alnum:]_-]|$)' "$f"; then
				SKIPPED+=("$job/$name")
				continue
			fi
			set +e
			(cd "$repo" && env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGPASSWORD "${env[@]}" \
				PATH="$WORK/bin:$PATH" GITHUB_WORKSPACE="$repo" bash --noprofile --norc -eo pipefail "$f") \
				>"$WORK/step.out" 2>&1
			local rc=$?
			set -e
			JOB_OUT+="[$name] $(cat "$WORK/step.out")"$'\n'
			if ((rc != 0)); then
				JOB_RC=$rc
				return
			fi
			;;
		esac
	done
}
applied() { q "SELECT count(*) FROM dbkit.migrations" 2>/dev/null || echo none; }

# pull request: the offline gate, then lint and the dry run against the "service" database
run_job check "$WORK/repo"
assert_eq 0 "$JOB_RC" "pull request: check job passes on the examples"
assert_contains "$JOB_OUT" "[dbkit check --offline]" "pull request: check ran dbkit check --offline"
run_job dry-run "$WORK/repo"
assert_eq 0 "$JOB_RC" "pull request: dry-run job (init, lint, migrate --dry-run) passes: $JOB_OUT"
assert_eq dbkit "$(q "SELECT extname FROM pg_extension WHERE extname = 'dbkit'")" "dry-run: dbkit init made the extension"
assert_contains "$JOB_OUT" "rolled back" "dry-run: the dry run says it rolled back"
assert_eq 0 "$(applied)" "dry-run: nothing was applied"
assert_eq 0 "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "dry-run: no table was left behind"

# the gate gates: a pull request that deletes an applied-looking migration fails with exit 5, offline
cp -r "$WORK/repo" "$WORK/repo-bad"
rm "$WORK/repo-bad/src/db/migrations/0001_create_organizations.sql"
run_job check "$WORK/repo-bad"
assert_eq 5 "$JOB_RC" "pull request: check job fails (exit 5) on a deleted migration file"
assert_contains "$JOB_OUT" "0001_create_organizations" "pull request: check names the deleted file"

# main: migrate, then status
run_job migrate "$WORK/repo"
assert_eq 0 "$JOB_RC" "main: migrate job passes: $JOB_OUT"
assert_eq "$N_EX" "$(applied)" "main: every example migration applied"
assert_contains "$JOB_OUT" "[dbkit status]" "main: status ran after migrate"
run_job migrate "$WORK/repo"
assert_eq 0 "$JOB_RC" "main: a second push finds nothing to do"
assert_eq "$N_EX" "$(applied)" "main: still every migration once"

# schedule: drift passes, then fails (exit 4) after a change by hand
run_job drift "$WORK/repo"
assert_eq 0 "$JOB_RC" "schedule: drift job passes with no drift: $JOB_OUT"
q "ALTER TABLE users ADD COLUMN nickname text"
run_job drift "$WORK/repo"
assert_eq 4 "$JOB_RC" "schedule: drift job fails with exit 4 after a change by hand"
assert_contains "$JOB_OUT" "nickname" "schedule: drift names the column"
assert_eq "check/Install dbkit dry-run/Install dbkit check/Install dbkit migrate/Install dbkit migrate/Install dbkit drift/Install dbkit drift/Install dbkit" \
	"${SKIPPED[*]}" "only the Install dbkit steps were stood in for"

# package.json from docs/ci.md, through npm, with DATABASE_URL
mkdir -p "$WORK/npm/src/db"
cp -r "$EX" "$WORK/npm/src/db/migrations"
python3 - "$MD" "$WORK/npm/package.json" <<'PY'
import json, re, sys
blocks = re.findall(r"```json\n(.*?)```", open(sys.argv[1]).read(), re.S)
pj = json.loads(blocks[0]); pj.update({"name": "ci-recipe-test", "private": True})
json.dump(pj, open(sys.argv[2], "w"))
PY
"${PSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS ci_npm' -c 'CREATE DATABASE ci_npm'
"${PSQL[@]}" -d ci_npm -c 'CREATE EXTENSION dbkit'
npm_run() { # script -> NPM_RC, NPM_OUT
	set +e
	NPM_OUT=$(cd "$WORK/npm" && env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE PATH="$WORK/bin:$PATH" \
		DATABASE_URL="postgresql:///ci_npm?host=$PGHOST&port=$PGPORT&user=$PGUSER" \
		npm_config_update_notifier=false npm run -s "$1" 2>&1)
	NPM_RC=$?
	set -e
}
for s in db:check db:lint db:migrate db:status db:drift; do
	npm_run $s
	assert_eq 0 "$NPM_RC" "npm run $s: exit 0 ($NPM_OUT)"
done
assert_eq "$N_EX" "$("${PSQL[@]}" -d ci_npm -c 'SELECT count(*) FROM dbkit.migrations')" "npm run db:migrate applied the examples"
npm_run db:status
assert_contains "$NPM_OUT" "$N_EX applied" "npm run db:status lists them applied"
finish
