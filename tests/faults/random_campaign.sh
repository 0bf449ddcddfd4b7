#!/usr/bin/env bash
# Randomized fault campaign (issue 16; `make test-faults-random`, not part of make test).
# FAULT_RUNS (default 1000) applies of a mixed folder (transactional migrations,
# data migrations, non-transactional ones with CREATE INDEX CONCURRENTLY, one of
# them with an INSERT before its CIC), each interrupted at a random moment by a
# random fault:
#   terminate     pg_terminate_backend of dbkit's backend
#   kill-backend  kill -9 of dbkit's backend (the postmaster restarts every backend)
#   immediate     pg_ctl stop -m immediate, then start
#   kill-client   kill -9 of the client
#   stop-client   SIGSTOP of the client (a network partition), then kill -9 after 0-2 s
# Then recovery: `dbkit migrate`, and `dbkit migrate --resume` when dbkit says a
# non-transactional migration stopped. Invariants, checked after the fault and
# after the recovery:
#   - every recorded migration's effects exist exactly once (data rows counted);
#   - no unrecorded migration left effects, except a non-transactional one that
#     dbkit reports as stopped (dbkit.progress), and even that never twice;
#   - no invalid index is recorded as applied;
#   - drizzle's table matches dbkit's history (same hashes, same count);
#   - each BEGIN ... COMMIT block of 0006_blocks (the file's own) is there whole or not at all.
# A recovery that does not end with every migration applied "needs a human".
# SEED=<n> replays the same sequence of choices (fault kinds, delays, pauses).
# Env: DBKIT, DBKIT_SRC (as for the other fault scripts), FAULT_RUNS, SEED.
source "$(dirname "$0")/lib.sh"
RUNS=${FAULT_RUNS:-1000}
SEED=${SEED:-$(((RANDOM << 15) | RANDOM))}
RANDOM=$SEED
echo "random fault campaign: seed $SEED, $RUNS runs (replay: SEED=$SEED FAULT_RUNS=$RUNS $0)"
fault_start

# ---------------------------------------------------------------------------
# the folder
# ---------------------------------------------------------------------------
F=$WORK/m
mkdir -p "$F/meta"
cat >"$F/0000_base.sql" <<'SQL'
CREATE TABLE "items" ("id" integer PRIMARY KEY, "v" integer NOT NULL);
--> statement-breakpoint
INSERT INTO "items" SELECT g, g % 1000 FROM generate_series(1, 20000) g;
--> statement-breakpoint
CREATE TABLE "camp_rows" ("mig" text NOT NULL, "n" integer NOT NULL);
SQL
cat >"$F/0001_data.sql" <<'SQL'
INSERT INTO "camp_rows" SELECT '0001', g FROM generate_series(1, 100) g;
SQL
cat >"$F/0002_items_v_idx.sql" <<'SQL'
CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_v_idx" ON "items" USING btree ("v");
SQL
cat >"$F/0003_items_w.sql" <<'SQL'
ALTER TABLE "items" ADD COLUMN "w" integer;
--> statement-breakpoint
UPDATE "items" SET "w" = "v" * 2;
--> statement-breakpoint
INSERT INTO "camp_rows" SELECT '0003', g FROM generate_series(1, 100) g;
SQL
cat >"$F/0004_nontx_data.sql" <<'SQL'
-- dbkit:no-transaction
INSERT INTO "camp_rows" SELECT '0004', g FROM generate_series(1, 100) g;
--> statement-breakpoint
CREATE INDEX CONCURRENTLY IF NOT EXISTS "items_w_idx" ON "items" USING btree ("w");
SQL
cat >"$F/0005_t5.sql" <<'SQL'
CREATE TABLE "t5" ("id" integer PRIMARY KEY);
--> statement-breakpoint
INSERT INTO "camp_rows" SELECT '0005', g FROM generate_series(1, 100) g;
--> statement-breakpoint
SELECT pg_sleep(0.2);
SQL
# The file's own BEGIN ... COMMIT blocks (issue 11): each block all or nothing.
cat >"$F/0006_blocks.sql" <<'SQL'
BEGIN;
--> statement-breakpoint
CREATE TABLE "t6" ("id" integer PRIMARY KEY);
--> statement-breakpoint
INSERT INTO "camp_rows" SELECT '0006a', g FROM generate_series(1, 100) g;
--> statement-breakpoint
COMMIT;
--> statement-breakpoint
BEGIN;
--> statement-breakpoint
INSERT INTO "camp_rows" SELECT '0006b', g FROM generate_series(1, 100) g;
--> statement-breakpoint
SELECT pg_sleep(0.1);
--> statement-breakpoint
COMMIT;
SQL
TAGS=(0000_base 0001_data 0002_items_v_idx 0003_items_w 0004_nontx_data 0005_t5 0006_blocks)
entries=
for i in "${!TAGS[@]}"; do
	entries+="${entries:+,}{\"idx\":$i,\"version\":\"7\",\"when\":$((1700000000000 + i * 1000)),\"tag\":\"${TAGS[$i]}\",\"breakpoints\":true}"
done
echo "{\"version\":\"7\",\"dialect\":\"postgresql\",\"entries\":[$entries]}" >"$F/meta/_journal.json"
N=${#TAGS[@]}

# The invariants, as one function (one psql per check). Prints nothing when they
# hold, else one line per violation.
CHECK_FN=$(
	cat <<'SQL'
CREATE SCHEMA campkit;
CREATE FUNCTION campkit.rows(m text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint := 0;
BEGIN
	IF to_regclass('public.camp_rows') IS NOT NULL THEN
		EXECUTE 'SELECT count(*) FROM public.camp_rows WHERE mig = $1' INTO n USING m;
	END IF;
	RETURN n;
END $$;
CREATE FUNCTION campkit.idx(name text) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce((SELECT CASE WHEN i.indisvalid THEN 'valid' ELSE 'INVALID' END FROM pg_index i
	                  WHERE i.indexrelid = to_regclass('public.' || name)), 'absent')
$$;
CREATE FUNCTION campkit.has_w() RETURNS boolean LANGUAGE sql AS $$
	SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('public.items') AND attname = 'w' AND NOT attisdropped)
$$;
-- per migration: 'full' (its effects exactly once), 'none', or what is there
CREATE FUNCTION campkit.effects(tag text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE items bigint := -1; r bigint; w_ok boolean;
BEGIN
	CASE tag
	WHEN '0000_base' THEN
		IF to_regclass('public.items') IS NULL AND to_regclass('public.camp_rows') IS NULL THEN RETURN 'none'; END IF;
		IF to_regclass('public.items') IS NOT NULL THEN EXECUTE 'SELECT count(*) FROM public.items' INTO items; END IF;
		IF items = 20000 AND to_regclass('public.camp_rows') IS NOT NULL THEN RETURN 'full'; END IF;
		RETURN format('items=%s camp_rows=%s', items, to_regclass('public.camp_rows') IS NOT NULL);
	WHEN '0001_data' THEN
		r := campkit.rows('0001');
		RETURN CASE r WHEN 100 THEN 'full' WHEN 0 THEN 'none' ELSE format('rows=%s', r) END;
	WHEN '0002_items_v_idx' THEN
		RETURN CASE campkit.idx('items_v_idx') WHEN 'valid' THEN 'full' WHEN 'absent' THEN 'none' ELSE 'index items_v_idx INVALID' END;
	WHEN '0003_items_w' THEN
		r := campkit.rows('0003');
		IF NOT campkit.has_w() AND r = 0 THEN RETURN 'none'; END IF;
		IF campkit.has_w() THEN
			EXECUTE 'SELECT bool_and(w = v * 2) FROM public.items' INTO w_ok;
		END IF;
		IF campkit.has_w() AND coalesce(w_ok, true) AND r = 100 THEN RETURN 'full'; END IF;
		RETURN format('column w=%s filled=%s rows=%s', campkit.has_w(), w_ok, r);
	WHEN '0004_nontx_data' THEN
		r := campkit.rows('0004');
		IF r = 0 AND campkit.idx('items_w_idx') = 'absent' THEN RETURN 'none'; END IF;
		IF r = 100 AND campkit.idx('items_w_idx') = 'valid' THEN RETURN 'full'; END IF;
		RETURN format('rows=%s index items_w_idx %s', r, campkit.idx('items_w_idx'));
	WHEN '0005_t5' THEN
		r := campkit.rows('0005');
		IF to_regclass('public.t5') IS NULL AND r = 0 THEN RETURN 'none'; END IF;
		IF to_regclass('public.t5') IS NOT NULL AND r = 100 THEN RETURN 'full'; END IF;
		RETURN format('t5=%s rows=%s', to_regclass('public.t5') IS NOT NULL, r);
	WHEN '0006_blocks' THEN
		r := campkit.rows('0006a');
		IF (to_regclass('public.t6') IS NOT NULL) <> (r = 100) OR r NOT IN (0, 100)
		   OR campkit.rows('0006b') NOT IN (0, 100) OR (r = 0 AND campkit.rows('0006b') = 100) THEN
			RETURN format('BROKEN BLOCK t6=%s 0006a rows=%s 0006b rows=%s', to_regclass('public.t6') IS NOT NULL, r,
			              campkit.rows('0006b'));
		END IF;
		IF r = 0 THEN RETURN 'none'; END IF;
		IF campkit.rows('0006b') = 100 THEN RETURN 'full'; END IF;
		RETURN 'first block only';
	END CASE;
END $$;
CREATE FUNCTION campkit.check(tags text[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE t text; e text; recorded boolean; stopped text; dz text[]; hist text[];
BEGIN
	SELECT tag INTO stopped FROM dbkit.progress LIMIT 1;
	FOREACH t IN ARRAY tags LOOP
		recorded := EXISTS (SELECT 1 FROM dbkit.migrations m WHERE m.tag = t);
		e := campkit.effects(t);
		IF recorded AND e <> 'full' THEN
			RETURN NEXT format('%s is recorded as applied but its effects are: %s', t, e);
		ELSIF NOT recorded AND e <> 'none' AND t IS DISTINCT FROM stopped THEN
			RETURN NEXT format('%s is not recorded (and not reported as stopped) but left effects: %s', t, e);
		ELSIF NOT recorded AND t = stopped AND e ~ 'rows=([2-9][0-9][0-9]|1[0-9][1-9]|1[1-9][0-9])' THEN
			RETURN NEXT format('%s (stopped, non-transactional) ran a statement twice: %s', t, e);
		END IF;
		IF e LIKE 'BROKEN BLOCK%' THEN
			RETURN NEXT format('%s: a BEGIN ... COMMIT block of the file is half there: %s', t, e);
		END IF;
		IF recorded AND e LIKE '%INVALID%' THEN
			RETURN NEXT format('%s: an invalid index is recorded as applied', t);
		END IF;
	END LOOP;
	IF to_regclass('public.camp_rows') IS NOT NULL THEN
		FOR t IN EXECUTE 'SELECT mig FROM public.camp_rows GROUP BY mig HAVING count(*) > 100' LOOP
			RETURN NEXT format('data of migration %s exists more than once', t);
		END LOOP;
	END IF;
	SELECT coalesce(array_agg(hash ORDER BY hash), '{}') INTO hist FROM dbkit.migrations;
	IF to_regclass('drizzle.__drizzle_migrations') IS NOT NULL THEN
		EXECUTE 'SELECT coalesce(array_agg(hash ORDER BY hash), ''{}'') FROM drizzle.__drizzle_migrations' INTO dz;
	ELSE
		dz := '{}';
	END IF;
	IF dz IS DISTINCT FROM hist THEN
		RETURN NEXT format('drizzle''s table (%s rows) does not match dbkit''s history (%s rows)', cardinality(dz), cardinality(hist));
	END IF;
END $$;
SQL
)
TAGS_SQL="ARRAY['$(IFS=,; echo "${TAGS[*]}" | sed "s/,/','/g")']"
check_invariants() { # prints violations, one a line
	"${PSQL[@]}" -c "SELECT * FROM campkit.check($TAGS_SQL)" 2>&1 || true
}
applied_count() { q "SELECT count(*) FROM dbkit.migrations" 2>/dev/null || echo "?"; }

"${PSQL[@]}" -d postgres -c "CREATE DATABASE camp_tpl"
qdb camp_tpl "CREATE EXTENSION dbkit; $CHECK_FN"
new_db() {
	"${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$1\" TEMPLATE camp_tpl"
	export PGDATABASE=$1
}
drop_db() { "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1 || true; }

ms() { date +%s%3N; }
find_backend() {
	wait_for 10 "SELECT pid FROM pg_stat_activity WHERE application_name = 'dbkit' AND datname = current_database() ORDER BY backend_start LIMIT 1"
}
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# Calibrate: a clean run, from the moment its backend is seen until the client exits.
new_db calibrate
start_migrate "$F"
find_backend >/dev/null || true
t0=$(ms)
wait_client_exit 120
D=$(($(ms) - t0))
((D > 0)) || D=1000
[[ $CRC == 0 ]] || fail "calibration run exited $CRC: $CERR"
v=$(check_invariants)
[[ -z $v && $(applied_count) == "$N" ]] || fail "calibration run: $(applied_count)/$N applied; $v"
pass "a clean run of the $N-migration folder takes $D ms once its backend is seen"
drop_db calibrate

declare -A FAULTS=() STATES=()
KINDS=(terminate kill-backend immediate kill-client stop-client)
violations=0 human=0 resumed=0 runs=0
declare -A BAD_RUNS=()
violation() { # run label text
	violations=$((violations + 1))
	BAD_RUNS[$1]=1
	echo "  VIOLATION run $1 ($2): $3"
}
t_start=$SECONDS
for ((i = 1; i <= RUNS; i++)); do
	kind=${KINDS[$((RANDOM % ${#KINDS[@]}))]}
	delay=$(((RANDOM * 32768 + RANDOM) % (D + D / 5 + 1)))
	pause=$((RANDOM % 2000))
	label="$kind@${delay}ms"
	[[ $kind == stop-client ]] && label+="+${pause}ms"
	FAULTS[$kind]=$((${FAULTS[$kind]:-0} + 1))
	runs=$i
	db="camp_$i"
	new_db "$db"
	start_migrate "$F"
	BACKEND=$(find_backend) || BACKEND=
	sleep_ms "$delay"
	case $kind in
	terminate) [[ -n $BACKEND ]] && { q "SELECT pg_terminate_backend($BACKEND)" >/dev/null 2>&1 || true; } ;;
	kill-backend) [[ -n $BACKEND ]] && { kill -9 "$BACKEND" 2>/dev/null || true; } ;;
	immediate) pg_server_stop immediate || true; pg_server_start ;;
	kill-client) kill -9 "$DBKIT_PID" 2>/dev/null || true ;;
	stop-client)
		kill -STOP "$DBKIT_PID" 2>/dev/null || true
		sleep_ms "$pause"
		kill -9 "$DBKIT_PID" 2>/dev/null || true
		;;
	esac
	wait_server_ready || { fail "run $i ($label): the server did not come back"; break; }
	wait_client_exit 120
	[[ -z $BACKEND ]] || wait_backend_gone "$BACKEND" 60 || note "run $i ($label): backend $BACKEND still there 60 s after the fault"
	# after the fault
	after_fault=$(applied_count)
	stopped=$(q "SELECT tag || ' at statement ' || next_statement FROM dbkit.progress" 2>/dev/null || true)
	while IFS= read -r v; do [[ -n $v ]] && violation "$i" "$label, after the fault" "$v"; done < <(check_invariants)
	# a client that exited 0 applied everything (never a wrong apply reported as success)
	[[ $CRC != 0 || $after_fault == "$N" ]] || violation "$i" "$label" "the client exited 0 but only $after_fault/$N are applied"
	# recovery
	how=migrate
	run migrate --dir "$F"
	if [[ $RC != 0 && $ERR == *"--resume"* ]]; then
		how="migrate, then --resume"
		resumed=$((resumed + 1))
		run migrate --dir "$F" --resume
	fi
	while IFS= read -r v; do [[ -n $v ]] && violation "$i" "$label, after recovery ($how)" "$v"; done < <(check_invariants)
	final=$(applied_count)
	if [[ $RC != 0 || $final != "$N" ]]; then
		human=$((human + 1))
		echo "  HUMAN run $i ($label): recovery ($how) exited $RC with $final/$N applied: $(head -c 400 <<<"$ERR" | tr '\n' ' ')"
	fi
	st="fault left $after_fault/$N${stopped:+, stopped $stopped}"
	STATES[$after_fault]=$((${STATES[$after_fault]:-0} + 1))
	echo "run $i: $label (client exit $CRC): $st; recovered by $how: exit $RC, $final/$N"
	drop_db "$db"
done
faults=
for k in "${KINDS[@]}"; do faults+="${faults:+, }$k ${FAULTS[$k]:-0}"; done
states=
for k in $(printf '%s\n' "${!STATES[@]}" | sort -n); do states+="${states:+, }$k/$N: ${STATES[$k]}"; done
echo "runs: $runs (seed $SEED, $((SECONDS - t_start)) s)"
echo "faults by kind: $faults"
echo "applied when the fault hit: $states"
echo "recoveries that needed --resume: $resumed"
echo "invariant violations: $violations (in ${#BAD_RUNS[@]} runs${BAD_RUNS[*]:+: $(printf '%s\n' "${!BAD_RUNS[@]}" | sort -n | tr '\n' ' ')})"
echo "recoveries needing a human: $human"
((violations == 0)) || fail "$violations invariant violation(s)"
fault_finish "random campaign, seed $SEED: $runs runs ($faults); $violations violations; $human recoveries needing a human; $resumed needed --resume"
