#!/usr/bin/env bash
# Safe apply in production (issue 5): --transaction=all/each, non-transactional
# migrations (CONCURRENTLY, the no-transaction marker, a failure half-way, then
# --resume or mark-applied), lock timeouts with retries (succeeding, then giving
# up cleanly; the per-migration marker), a dry run that leaves schema, history and
# data byte-identical, and lint through the client.
source "$(dirname "$0")/lib.sh"
# background lock holders are ours: stop them if the test dies early
E2E_CLEANUP+=('for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done')

assert_lt() { # a b message: integer a < b
	if (($1 < $2)); then pass "$3"; else fail "$3: expected $1 < $2"; fi
}

# meta/_journal.json for the NNNN_*.sql files of a folder, in name order.
json_get() { # json python-expression-on-j
	python3 -c 'import json, sys
j = json.loads(sys.argv[1])
v = eval(sys.argv[2])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2"
}

###############################################################################
# 1. --transaction=all (the default) and --transaction=each
###############################################################################
case_begin safe/transaction-modes
F=$WORK/tx
mkdir -p "$F"
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY);\n' >"$F/0000_a.sql"
printf 'CREATE TABLE "b" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO "b" VALUES (1);\n' >"$F/0001_b.sql"
printf 'CREATE TABLE "c" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO "no_such_table" VALUES (1);\n' >"$F/0002_c.sql"
write_journal "$F"
tables_abc() { q "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('a', 'b', 'c') AND relkind = 'r'"; }

fresh_db safe_tx_all
run migrate --dir "$F"
assert_eq 1 "$RC" "all: the 3rd migration fails: exit 1"
assert_contains "$ERR" "migration 0002_c.sql, statement 2 (line 3)" "all: the error names file, statement and line"
assert_eq 0 "$(q 'SELECT count(*) FROM dbkit.migrations')" "all: no history row"
assert_eq "" "$(tables_abc)" "all: no table of the run exists"

fresh_db safe_tx_each
run migrate --dir "$F" --transaction=each
assert_eq 1 "$RC" "each: the 3rd migration fails: exit 1"
assert_contains "$ERR" "migration 0002_c.sql, statement 2 (line 3)" "each: the error names file, statement and line"
assert_contains "$OUT" "applied  0000_a" "each: prints the first migration as applied"
assert_contains "$OUT" "applied  0001_b" "each: prints the second migration as applied"
assert_eq $'0000_a\n0001_b' "$(q 'SELECT tag FROM dbkit.migrations ORDER BY id')" "each: the first two are recorded"
assert_eq "a,b" "$(tables_abc)" "each: the first two are applied, the 3rd is not"
assert_eq 1 "$(q 'SELECT count(*) FROM b')" "each: the second migration's data is there"
# the first two were committed: the hint must not say that nothing was applied
assert_not_contains "$ERR" "Nothing from this run was applied" "each: the hint does not claim nothing was applied"

sed -i 's/"no_such_table"/"c"/' "$F/0002_c.sql"
run migrate --dir "$F" --transaction=each --json
assert_eq 0 "$RC" "each: after the fix, exit 0"
assert_eq "1 2 ['0002_c'] 1" "$(json_get "$OUT" 'j["applied"], j["already_applied"], [m["tag"] for m in j["migrations"]], j["transactions"]')" \
	"each --json: only the fixed migration applied, in 1 transaction"
assert_eq $'0000_a\n0001_b\n0002_c' "$(q 'SELECT tag FROM dbkit.migrations ORDER BY id')" "each: all three recorded"

fresh_db safe_tx_count
run migrate --dir "$F" --transaction=each --json
assert_eq "0 3 3" "$RC $(json_get "$OUT" 'j["applied"], j["transactions"]')" "each --json: 3 migrations in 3 transactions"
assert_eq 3 "$(q "SELECT count(*) FROM dbkit.events WHERE action = 'apply'")" "each: one apply event per transaction"
fresh_db safe_tx_count
run migrate --dir "$F" --json
assert_eq "0 3 1" "$RC $(json_get "$OUT" 'j["applied"], j["transactions"]')" "all --json: 3 migrations in 1 transaction"

###############################################################################
# 2. Non-transactional migrations
###############################################################################
case_begin safe/non-transactional
# CREATE INDEX CONCURRENTLY between transactional migrations; a marker migration
# whose two statements commit separately (two transaction ids).
F=$WORK/nt
mkdir -p "$F"
printf 'CREATE TABLE "t" ("id" integer PRIMARY KEY, "a" integer, "b" integer);\n--> statement-breakpoint\nINSERT INTO "t" SELECT g, g %% 7, g %% 500 FROM generate_series(1, 1000) g;\n' >"$F/0000_t.sql"
printf 'CREATE INDEX CONCURRENTLY "t_a_idx" ON "t" USING btree ("a");\n' >"$F/0001_t_a_idx.sql"
printf -- '-- dbkit:no-transaction\nCREATE TABLE "x1" AS SELECT txid_current() AS "xid";\n--> statement-breakpoint\nCREATE TABLE "x2" AS SELECT txid_current() AS "xid";\n' >"$F/0002_marker.sql"
printf 'ALTER TABLE "t" ADD COLUMN "c" text;\n' >"$F/0003_after.sql"
write_journal "$F"
fresh_db safe_nontx
run migrate --dir "$F"
assert_eq 0 "$RC" "concurrent index between transactional migrations: exit 0"
assert_contains "$OUT" "running  0001_t_a_idx" "the concurrent migration runs outside a transaction"
assert_contains "$OUT" "running  0002_marker" "the marker migration runs outside a transaction"
assert_eq $'0000_t|2\n0001_t_a_idx|1\n0002_marker|2\n0003_after|1' \
	"$(q 'SELECT tag, statements FROM dbkit.migrations ORDER BY id')" "history has all four, in order"
assert_eq "t" "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_idx'::regclass")" "the concurrent index is valid"
assert_eq "t" "$(q 'SELECT (SELECT xid FROM x1) <> (SELECT xid FROM x2)')" "marker: its two statements ran in two transactions"
assert_eq $'0001_t_a_idx\n0002_marker' \
	"$(q "SELECT tag FROM dbkit.events WHERE detail->>'non_transactional' = 'true' ORDER BY id")" "events mark both as non-transactional"
assert_eq 0 "$(q 'SELECT count(*) FROM dbkit.progress')" "dbkit.progress is empty"
assert_eq 1 "$(q "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'c'")" "the migration after it ran"
run migrate --dir "$F"
assert_eq 0 "$RC" "second run: exit 0"
assert_contains "$OUT" "nothing to apply" "second run: nothing to apply"

# A non-transactional migration failing half-way: statement 2 builds a unique
# index over duplicates.
F=$WORK/nf
mkdir -p "$F"
cp "$WORK/nt/0000_t.sql" "$F/"
printf -- '-- two concurrent builds\nCREATE INDEX CONCURRENTLY "a_idx" ON "t" ("a");\n--> statement-breakpoint\nCREATE UNIQUE INDEX CONCURRENTLY "t_b_uniq" ON "t" ("b");\n' >"$F/0001_indexes.sql"
printf 'ALTER TABLE "t" ADD COLUMN "c" text;\n' >"$F/0002_after.sql"
write_journal "$F"
progress() { q 'SELECT tag, status, next_statement FROM dbkit.progress'; }

fresh_db safe_halfway
run migrate --dir "$F"
assert_eq 1 "$RC" "half-way: exit 1"
assert_contains "$ERR" "migration 0001_indexes, statement 2 (line 4)" "half-way: the error names the migration and statement 2"
assert_contains "$ERR" 'could not create unique index "t_b_uniq"' "half-way: PostgreSQL's message"
assert_contains "$ERR" "DROP INDEX CONCURRENTLY public.t_b_uniq" "half-way: names the invalid index left behind"
assert_contains "$ERR" "dbkit migrate --resume" "half-way: tells to --resume"
assert_eq "0000_t" "$(q "SELECT string_agg(tag, ',') FROM dbkit.migrations")" "half-way: only the earlier migration is recorded"
assert_eq "0001_indexes|failed|2" "$(progress)" "half-way: dbkit.progress: failed at statement 2"
assert_contains "$(q 'SELECT error FROM dbkit.progress')" "invalid index left behind: public.t_b_uniq" "half-way: dbkit.progress names the invalid index"
assert_eq $'a_idx|t\nt_b_uniq|f' "$(q "SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 't'::regclass AND indexrelid::regclass::text <> 't_pkey' ORDER BY 1")" \
	"half-way: statement 1's index is valid, statement 2's is invalid"
run status --dir "$F"
assert_contains "$(grep 0001_indexes <<<"$OUT")" "statement 2" "dbkit status shows 0001_indexes stopped at statement 2"
# drift gives status's advice for the index the stopped run left (it said to drop it by hand)
run drift
assert_eq 4 "$RC" "half-way: drift reports the invalid index"
assert_contains "$OUT$ERR" "The run of 0001_indexes stopped (dbkit status): dbkit migrate --resume drops and builds again" \
	"half-way: drift's advice is status's: --resume"

run migrate --dir "$F"
assert_eq 1 "$RC" "after half-way, migrate without --resume: exit 1"
assert_contains "$ERR" "DK009" "refused with DK009"
assert_contains "$ERR" "migration 0001_indexes (non-transactional) stopped at statement 2 of 2" "DK009 names the migration and statement"
assert_contains "$ERR" "--resume" "DK009 hint: --resume"
assert_eq "0001_indexes|failed|2" "$(progress)" "the refusal changes nothing"

q 'UPDATE t SET b = id'
q 'DROP INDEX CONCURRENTLY t_b_uniq'
sleep 6 # the recorded duration is the migration's, not the time spent repairing (a gap far above what the resume itself takes, even loaded)
run migrate --dir "$F" --resume
assert_eq 0 "$RC" "--resume after the fix: exit 0"
assert_contains "$OUT" "applied  0001_indexes" "--resume applies the migration"
assert_contains "$OUT" "applied  0002_after" "--resume then applies the rest"
assert_contains "$OUT" "resumed at statement 2 of 2: 1 ran in this run" "--resume: the row says where it resumed"
assert_contains "$OUT" "dbkit: applied 2 migrations (2 statements," "--resume: the summary counts what ran (1 + 1), not the file's 2 + 1"
assert_eq $'0000_t|2\n0001_indexes|2\n0002_after|1' "$(q 'SELECT tag, statements FROM dbkit.migrations ORDER BY id')" "--resume: history has it"
assert_eq 0 "$(q 'SELECT count(*) FROM dbkit.progress')" "--resume: dbkit.progress is empty"
assert_eq $'a_idx|t\nt_b_uniq|t' "$(q "SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 't'::regclass AND indexrelid::regclass::text <> 't_pkey' ORDER BY 1")" \
	"--resume: both indexes valid (statement 1 was not run again)"
assert_lt "$(q "SELECT round(duration_ms) FROM dbkit.migrations WHERE tag = '0001_indexes'")" 6000 \
	"--resume: the recorded duration excludes the time between failure and resume"

# The other way out: finish it by hand, then mark-applied.
fresh_db safe_mark
run migrate --dir "$F" --json
assert_eq 1 "$RC" "half-way (--json): exit 1"
assert_eq "['0000_t'] 23505" "$(json_get "$OUT" '[m["tag"] for m in j["migrations"]], j["error"]["sqlstate"]')" \
	"half-way --json: lists what was applied, the error's SQLSTATE"
q 'UPDATE t SET b = id'
q 'DROP INDEX CONCURRENTLY t_b_uniq'
q 'CREATE UNIQUE INDEX CONCURRENTLY t_b_uniq ON t (b)'
run mark-applied 0001_indexes --reason "finished by hand" --dir "$F"
assert_eq 0 "$RC" "mark-applied: exit 0"
assert_eq "0001_indexes|marked" "$(q "SELECT tag, how FROM dbkit.migrations WHERE tag = '0001_indexes'")" "mark-applied records it"
assert_eq "" "$(progress)" "mark-applied clears dbkit.progress"
run migrate --dir "$F"
assert_eq 0 "$RC" "migrate after mark-applied (no --resume): exit 0"
assert_eq $'0000_t|applied\n0001_indexes|marked\n0002_after|applied' "$(q 'SELECT tag, how FROM dbkit.migrations ORDER BY id')" \
	"after mark-applied, the rest is applied"

# --resume continues after the statements that ran, so they must be the ones in the file
# (an attack: the typo fixed and an earlier statement taken out, --resume recorded the
# migration with its fixed statement never run: "resumed at statement 3 of 2: 0 ran")
case_begin safe/resume-checks-what-ran
F=$WORK/resume-edit
mkdir -p "$F"
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY, "email" text);\n--> statement-breakpoint\nCREATE TABLE "b" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "a_email" ON "a" ("emial");\n' >"$F/0000_a.sql"
write_journal "$F"
fresh_db safe_resume_edit
run migrate --dir "$F"
assert_eq 1 "$RC" "resume edit: statement 3 fails"
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY, "email" text);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "a_email" ON "a" ("email");\n' >"$F/0000_a.sql"
run migrate --dir "$F" --resume
assert_eq 1 "$RC" "resume edit: a statement that ran, taken out: refused"
assert_contains "$ERR" "cannot resume 0000_a: statement 2 of 0000_a.sql is not the one that ran before the run stopped at statement 3" "resume edit: says which statement"
assert_contains "$ERR" "restore them and change only statement 3 onward" "resume edit: says what to do"
assert_eq 0 "$(q "SELECT count(*) FROM dbkit.migrations")" "resume edit: nothing recorded"
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY, "email" text);\n' >"$F/0000_a.sql"
run migrate --dir "$F" --resume
assert_eq 1 "$RC" "resume edit: a file shorter than what ran: refused"
assert_contains "$ERR" "cannot resume 0000_a: its run stopped at statement 3 after running the ones before it outside a transaction, and 0000_a.sql no longer runs that way" "resume edit: a file that no longer runs outside a transaction: says so"
assert_contains "$ERR" "dbkit mark-applied 0000_a" "resume edit: and what else to do"
printf 'VACUUM "a";\n' >"$F/0000_a.sql"
run migrate --dir "$F" --resume
assert_eq 1 "$RC" "resume edit: a file shorter than what ran: refused"
assert_contains "$ERR" "0000_a.sql now has 1 statement, and its run stopped after statement 2" "resume edit: says so ($ERR)"
printf 'CREATE TABLE "a" ("id" integer PRIMARY KEY, "email" text);\n--> statement-breakpoint\nCREATE TABLE "b" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nCREATE INDEX CONCURRENTLY "a_email" ON "a" ("email");\n' >"$F/0000_a.sql"
run migrate --dir "$F" --resume
assert_eq 0 "$RC" "resume edit: only the failed statement fixed: resumes ($ERR)"
assert_eq "a_email" "$(q "SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'a'::regclass AND NOT indisprimary")" "resume edit: the fixed statement ran"

###############################################################################
# 3. Locks held by another session
###############################################################################
case_begin safe/locks
# hold_lock APP SECONDS: a session named APP holds ACCESS EXCLUSIVE on t for
# SECONDS; returns once the lock is granted. Sets HOLDER_JOB, HOLDER_PID.
# The holds are long enough to outlast dbkit_apply's own snapshot reads, which
# wait up to 2 s each for an ACCESS SHARE lock on t (the drift check before the
# run, the snapshot after it) before the migration's statements run.
hold_lock() {
	local app=$1 secs=$2 i
	PGAPPNAME=$app "${PSQL[@]}" -c "BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($secs); COMMIT" >/dev/null 2>&1 &
	HOLDER_JOB=$!
	HOLDER_PID=
	for i in $(seq 200); do
		HOLDER_PID=$(q "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = '$app' AND l.relation = 'public.t'::regclass AND l.mode = 'AccessExclusiveLock' AND l.granted")
		[[ -n $HOLDER_PID ]] && return 0
		sleep 0.05
	done
	fail "lock holder $app never got its lock"
}
holder_holds_t() { q "SELECT count(*) FROM pg_locks WHERE pid = $HOLDER_PID AND relation = 'public.t'::regclass AND granted"; }
end_holder() { # stop our own holder session early, by its backend pid
	q "SELECT pg_terminate_backend($HOLDER_PID)" >/dev/null
	wait "$HOLDER_JOB" || true
}
columns_of_t() { q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 't'"; }

F=$WORK/lk
mkdir -p "$F"
printf 'CREATE TABLE "t" ("id" integer PRIMARY KEY, "a" integer);\n' >"$F/0000_t.sql"
write_journal "$F"
fresh_db safe_locks
run migrate --dir "$F"
assert_eq 0 "$RC" "locks: the table is created"

# retried, then succeeds once the holder commits
printf 'ALTER TABLE "t" ADD COLUMN "b" integer;\n' >"$F/0001_add_b.sql"
write_journal "$F"
hold_lock dbkit-e2e-holder-1 4
run migrate --dir "$F" --lock-timeout 300ms --lock-retries 10
wait "$HOLDER_JOB" || true
assert_eq 0 "$RC" "lock held 4 s, --lock-timeout 300ms --lock-retries 10: exit 0"
assert_contains "$ERR" "retry 1 of 10" "retry warnings on stderr"
assert_contains "$ERR" "canceling statement due to lock timeout" "the warning says why"
assert_contains "$ERR" "pid $HOLDER_PID" "the warning names the blocking session's pid"
assert_contains "$ERR" "dbkit-e2e-holder-1" "the warning names the blocking session's application_name"
assert_contains "$OUT" "retried" "the applied line says it was retried"
assert_eq "id,a,b" "$(columns_of_t)" "the migration applied"
assert_eq "t" "$(q "SELECT (detail->>'lock_retries')::int >= 1 FROM dbkit.events WHERE action = 'apply' ORDER BY id DESC LIMIT 1")" \
	"the event records the retries"

# A retry rolls back the whole run: while it backs off, the locks taken by the
# run's earlier migrations are released, so traffic on those tables goes on.
F2=$WORK/lk2
mkdir -p "$F2"
printf 'CREATE TABLE "t" ("id" integer PRIMARY KEY);\n--> statement-breakpoint\nCREATE TABLE "w" ("id" integer PRIMARY KEY);\n' >"$F2/0000_tw.sql"
write_journal "$F2"
fresh_db safe_locks_release
run migrate --dir "$F2"
assert_eq 0 "$RC" "release: t and w created"
printf 'ALTER TABLE "w" ADD COLUMN "x" integer;\n' >"$F2/0001_w_x.sql"
printf 'ALTER TABLE "t" ADD COLUMN "b" integer;\n' >"$F2/0002_t_b.sql"
write_journal "$F2"
hold_lock dbkit-e2e-holder-r 600
# 1s waits: a window a poll on a loaded machine cannot miss (200 ms was missed once, under load)
"$DBKIT" migrate --dir "$F2" --lock-timeout 1s --lock-retries 20 >"$WORK/release.out" 2>&1 &
MIGRATE_JOB=$!
# First wait until the run's ALTER TABLE "t" is waiting for its lock (the run
# has by then altered w), then probe w while t is still held, so the run cannot
# have finished (the holder keeps t until we end it). With a savepoint per migration,
# w would stay locked to the end.
[[ $(wait_until 60 "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.query LIKE '%dbkit_apply(%' AND l.relation = 'public.t'::regclass AND l.mode = 'AccessExclusiveLock' AND NOT l.granted") == 1 ]] ||
	fail "release: the run never waited for its ALTER TABLE t"
got=0
for i in $(seq 400); do
	if "${PSQL[@]}" -c "SET lock_timeout = '100ms'" -c 'SELECT count(*) FROM "w"' >/dev/null 2>&1 && [[ $(holder_holds_t) == 1 ]]; then
		got=1
		break
	fi
	sleep 0.05
done
end_holder # t is free: the run's next retry completes
set +e
wait "$MIGRATE_JOB"
rc=$?
set -e
assert_eq 1 "$got" "release: w is readable while the run backs off (its lock on w was released)"
assert_eq 0 "$rc" "release: the run completes once t is free"
assert_contains "$(cat "$WORK/release.out")" "retried from its first migration" "release: the warning says the whole run is retried"
assert_eq "0000_tw,0001_w_x,0002_t_b" "$(q "SELECT string_agg(tag, ',' ORDER BY id) FROM dbkit.migrations")" "release: each migration recorded once"
assert_eq "id,x" "$(q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'w'")" "release: w altered once"
export PGDATABASE=safe_locks

# the holder outlasts the retry budget: gives up cleanly
printf 'ALTER TABLE "t" ADD COLUMN "c" integer;\n' >"$F/0002_add_c.sql"
write_journal "$F"
hold_lock dbkit-e2e-holder-2 600
run migrate --dir "$F" --lock-timeout 200ms --lock-retries 2
still_held=$(holder_holds_t)
assert_eq 1 "$RC" "lock held longer than 2 retries of 200ms: exit 1"
assert_contains "$ERR" "canceling statement due to lock timeout" "the error says lock timeout"
assert_contains "$ERR" "gave up after 2 retries" "the error says it gave up after 2 retries"
assert_contains "$ERR" "retry 2 of 2" "both retries were made"
assert_contains "$ERR" "55P03" "SQLSTATE 55P03"
assert_contains "$ERR" "dbkit-e2e-holder-2" "the error names the blocking session"
assert_eq 1 "$still_held" "it gave up while the holder still held the lock (not by outwaiting it)"
end_holder
assert_eq "0000_t,0001_add_b" "$(q "SELECT string_agg(tag, ',' ORDER BY id) FROM dbkit.migrations")" "nothing of the failed run recorded"
assert_eq "id,a,b" "$(columns_of_t)" "nothing of the failed run applied"

# -- dbkit:lock_timeout=... overrides the run's value, both ways
printf -- '-- dbkit:lock_timeout=20s\nALTER TABLE "t" ADD COLUMN "c" integer;\n' >"$F/0002_add_c.sql"
hold_lock dbkit-e2e-holder-3 3
run migrate --dir "$F" --lock-timeout 100ms --lock-retries 0
wait "$HOLDER_JOB" || true
assert_eq 0 "$RC" "marker lock_timeout=20s beats --lock-timeout 100ms: waits out a 3 s holder, exit 0"
assert_not_contains "$ERR" "retry" "marker 20s: no retry needed"
assert_eq "id,a,b,c" "$(columns_of_t)" "marker 20s: applied"

printf -- '-- dbkit:lock_timeout=100ms\nALTER TABLE "t" ADD COLUMN "d" integer;\n' >"$F/0003_add_d.sql"
write_journal "$F"
hold_lock dbkit-e2e-holder-4 600
run migrate --dir "$F" --lock-timeout 60s --lock-retries 0
still_held=$(holder_holds_t)
end_holder
assert_eq 1 "$RC" "marker lock_timeout=100ms beats --lock-timeout 60s: exit 1"
assert_contains "$ERR" "canceling statement due to lock timeout" "marker 100ms: lock timeout"
assert_eq 1 "$still_held" "marker 100ms: failed while the holder still held the lock (did not wait 60 s for it)"
assert_eq "id,a,b,c" "$(columns_of_t)" "marker 100ms: nothing applied"

# a concurrent index blocked by a lock: the client retries it statement by statement
rm "$F/0003_add_d.sql"
printf 'CREATE INDEX CONCURRENTLY "t_a_idx" ON "t" ("a");\n' >"$F/0003_t_a_idx.sql"
write_journal "$F"
hold_lock dbkit-e2e-holder-5 5
run migrate --dir "$F" --lock-timeout 300ms --lock-retries 10
wait "$HOLDER_JOB" || true
assert_eq 0 "$RC" "concurrent index behind a lock: exit 0"
assert_contains "$ERR" "migration 0003_t_a_idx, statement 1" "concurrent index: the retry names migration and statement"
assert_contains "$ERR" "retry 1 of 10" "concurrent index: retried"
assert_eq "t" "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_idx'::regclass")" "concurrent index: valid"
assert_eq 0 "$(q 'SELECT count(*) FROM dbkit.progress')" "concurrent index: dbkit.progress is empty"

###############################################################################
# 4. Dry run: reports, and leaves everything byte-identical
###############################################################################
case_begin safe/dry-run
F=$WORK/dry
mkdir -p "$F"
printf 'CREATE TABLE "t" ("id" integer PRIMARY KEY, "a" integer, "b" text);\n--> statement-breakpoint\nINSERT INTO "t" SELECT g, g, md5(g::text) FROM generate_series(1, 5000) g;\n' >"$F/0000_t.sql"
printf 'CREATE TABLE "t2" ("id" serial PRIMARY KEY, "v" varchar(50));\n--> statement-breakpoint\nINSERT INTO "t2" ("v") SELECT g::text FROM generate_series(1, 100) g;\n' >"$F/0001_t2.sql"
write_journal "$F"
fresh_db safe_dry
run migrate --dir "$F"
assert_eq 0 "$RC" "dry run: database at migration 0001"
q 'COMMENT ON TABLE t IS $$changed by hand$$' # something in the DDL audit
printf 'ALTER TABLE "t" ALTER COLUMN "a" SET DATA TYPE bigint;\n--> statement-breakpoint\nCREATE INDEX "t_b_idx" ON "t" USING btree ("b");\n' >"$F/0002_t_types.sql"
printf 'UPDATE "t" SET "b" = upper("b") WHERE "id" <= 10;\n--> statement-breakpoint\nALTER TABLE public.t2 ALTER COLUMN id SET DATA TYPE bigint;\n' >"$F/0003_t2_types.sql"
printf 'CREATE INDEX CONCURRENTLY "t_a_idx" ON "t" ("a");\n' >"$F/0004_t_a_idx.sql"
write_journal "$F"

state() {
	pg_dump --schema-only -d "$PGDATABASE" | grep -v '^\\\(un\)\?restrict '
	local tbl
	for tbl in migrations events snapshots ddl_audit; do
		echo "-- dbkit.$tbl"
		q "SELECT * FROM dbkit.$tbl ORDER BY id"
	done
	q 'SELECT * FROM dbkit.progress ORDER BY tag'
	echo "-- drizzle"
	q 'SELECT * FROM drizzle.__drizzle_migrations ORDER BY id'
	echo "-- data"
	q 'SELECT * FROM t ORDER BY id'
	q 'SELECT * FROM t2 ORDER BY id'
	q 'SELECT last_value, is_called FROM t2_id_seq'
	q "SELECT relname, relfilenode FROM pg_class WHERE relname IN ('t', 't2', 't_pkey', 't2_pkey') ORDER BY 1"
}
before=$(state)

run migrate --dir "$F" --dry-run
assert_eq 0 "$RC" "dry run: exit 0"
assert_contains "$OUT" "0002_t_types" "dry run: lists the pending migration"
assert_contains "$OUT" "AccessExclusiveLock" "dry run: shows the locks"
assert_contains "$OUT" "10 rows" "dry run: rows of the UPDATE"
assert_contains "$OUT" " ms" "dry run: durations"
assert_contains "$OUT" "REWRITES public.t2" "dry run: ALTER TYPE on a schema-qualified table REWRITES"
assert_contains "$(grep -A1 '0002_t_types  *#1 ' <<<"$OUT")" "REWRITES public.t" "dry run: ALTER TYPE on \"t\" (drizzle's unqualified name) REWRITES"
assert_contains "$OUT" "not run: a non-transactional migration" "dry run: the concurrent index is not run"
assert_contains "$OUT" "nothing remains in the database" "dry run: says nothing remains"

run migrate --dir "$F" --dry-run --json
assert_eq 0 "$RC" "dry run --json: exit 0"
assert_eq "True 4 5" "$(json_get "$OUT" 'j["dry_run"], len([s for s in j["statements"] if s["duration_ms"] is not None]), len(j["statements"])')" \
	"dry run --json: 5 statements, 4 run with a duration"
assert_eq "10" "$(json_get "$OUT" '[s["rows"] for s in j["statements"] if s["command"] == "UPDATE"][0]')" "dry run --json: rows"
assert_eq "['public.t', 'public.t2']" "$(json_get "$OUT" '[s["rewrites"] for s in j["statements"] if s["command"] == "ALTER TABLE"]')" \
	"dry run --json: both ALTER TYPEs rewrite"

after=$(state)
if [[ "$before" == "$after" ]]; then
	pass "dry run: schema, history, audit, data byte-identical"
else
	fail "dry run changed something: $(diff <(echo "$before") <(echo "$after") | head -20)"
fi
run migrate --dir "$F"
assert_eq 0 "$RC" "after the dry run, the real run: exit 0"
assert_eq "bigint" "$(q "SELECT data_type FROM information_schema.columns WHERE table_name = 't' AND column_name = 'a'")" "the real run changed the type"

###############################################################################
# 5. Lint through the client
###############################################################################
case_begin safe/lint
F=$WORK/lint
mkdir -p "$F"
printf 'CREATE TABLE "t" ("id" integer PRIMARY KEY, "a" integer);\n--> statement-breakpoint\nINSERT INTO "t" SELECT g, g FROM generate_series(1, 1000) g;\n' >"$F/0000_t.sql"
write_journal "$F"
fresh_db safe_lint
run migrate --dir "$F"
q 'ANALYZE t'
printf 'DELETE FROM t;\n' >"$F/0001_delete.sql"
write_journal "$F"
run lint --dir "$F"
assert_eq 5 "$RC" "lint: DELETE FROM t (1000 rows): exit 5"
assert_contains "$OUT" "data-loss.delete-all" "lint: names the rule"
run check --dir "$F"
assert_eq 5 "$RC" "check: exit 5"
assert_contains "$OUT" "lint.data-loss.delete-all" "check: reports lint.data-loss.delete-all"
printf 'DELETE FROM public.t;\n' >"$F/0001_delete.sql"
run lint --dir "$F"
assert_eq 5 "$RC" "lint: DELETE FROM public.t (1000 rows): exit 5"
printf -- '-- dbkit:allow data-loss.delete-all\nDELETE FROM t;\n' >"$F/0001_delete.sql"
run lint --dir "$F"
assert_eq 0 "$RC" "lint: waived: exit 0"
assert_not_contains "$OUT" "data-loss.delete-all" "lint: waived: no finding"
run check --dir "$F"
assert_eq 0 "$RC" "check: waived: exit 0"
assert_not_contains "$OUT" "lint.data-loss.delete-all" "check: waived: no lint finding"
printf 'DELETE FROM t WHERE id < 10;\n' >"$F/0001_delete.sql"
run lint --dir "$F"
assert_eq 0 "$RC" "lint: DELETE with WHERE: exit 0"
finish
