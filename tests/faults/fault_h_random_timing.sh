#!/usr/bin/env bash
# (h) Faults at random moments of a run, not only while it waits: a 16-migration folder
# with real work (each migration fills and indexes a table) is applied, and after a
# random delay across the run (from the moment its backend is seen), up to and past its commit, one of pg_terminate_backend,
# kill -9 of the client, kill -9 of the backend, pg_ctl stop -m immediate hits it.
# Every time the database must be fully before or fully after the run, a client that
# exited 0 must have committed, and the next migrate completes.
# The seed of the delays is printed first (and in the summary and every failure);
# The delays are drawn over the calibrated length of a run (FAULT_D, in ms), so a replay
# gives both: the script prints "replay with SEED=<n> FAULT_D=<ms>", e.g.
#   SEED=12345 FAULT_D=420 DBKIT=build/client/dbkit DBKIT_SRC=. tests/faults/run_all.sh h
# (FAULT_SEED=<n> is accepted for SEED).
# FAULT_ROUNDS=<n> (default 6, one of each fault kind at least).
source "$(dirname "$0")/lib.sh"
fault_start
N=16 ROWS=1000
SEED=${SEED:-${FAULT_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')}}
[[ $SEED =~ ^[0-9]+$ ]] || { echo "SEED must be a number, got [$SEED]" >&2; exit 2; }
RANDOM=$SEED
ROUNDS=${FAULT_ROUNDS:-6}
echo "seed $SEED, $ROUNDS rounds"
make_folder "$WORK/m" $N work@$ROWS

ms() { date +%s%3N; }
find_backend() {
	wait_for 10 "SELECT pid FROM pg_stat_activity WHERE application_name = 'dbkit' AND datname = current_database()"
}
# Calibrate: how long the server side of a whole run takes here, from the moment its
# backend is seen until the client has exited.
case_begin "calibrate (SEED=$SEED)"
fresh_db calibrate
start_migrate "$WORK/m"
find_backend >/dev/null
t0=$(ms)
wait_client_exit 60
D=$(($(ms) - t0))
if [[ -n ${FAULT_D:-} ]]; then
	echo "calibrated $D ms; FAULT_D=$FAULT_D given: the delays are drawn over $FAULT_D ms"
	D=$FAULT_D
fi
echo "replay with SEED=$SEED FAULT_D=$D"
REPLAY="SEED=$SEED FAULT_D=$D"
[[ $CRC == 0 ]] || fail "calibration run exited $CRC: $CERR"
pass "a clean run of $N migrations takes $D ms once its backend is seen"

faults=(terminate kill-client kill-backend terminate kill-client immediate-stop)
before=0 after=0 ambiguous=0
for ((i = 0; i < ROUNDS; i++)); do
	f=${faults[$((i % ${#faults[@]}))]}
	# Uniform over the run and a little past its end; the first fault injected through
	# psql (pg_terminate_backend) lands ~0.1 s later than kill does.
	delay=$((RANDOM % (D + D / 5)))
	label="random/$i/$f@${delay}ms ($REPLAY)"
	case_begin "$label"
	fresh_db "rnd_$i"
	start_migrate "$WORK/m"
	BACKEND=$(find_backend) || BACKEND=
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	case $f in
	terminate) [[ -n $BACKEND ]] && { q "SELECT pg_terminate_backend($BACKEND)" >/dev/null 2>&1 || true; } ;;
	kill-client) kill -9 "$DBKIT_PID" 2>/dev/null || true ;;
	kill-backend) [[ -n $BACKEND ]] && { kill -9 "$BACKEND" 2>/dev/null || true; } ;;
	immediate-stop) pg_server_stop immediate && pg_server_start ;;
	esac
	wait_server_ready || fail "$label: the server did not come back"
	wait_client_exit 60
	[[ -z $BACKEND ]] || wait_backend_gone "$BACKEND" 60 || fail "$label: backend $BACKEND still there"
	STATE=$(db_state 0 $N -1 0)
	case $STATE in
	before) before=$((before + 1)) ;;
	after) after=$((after + 1)) ;;
	*) fail "$label: the run was left half done: $STATE" ;;
	esac
	if [[ $CRC == 0 && $STATE != after ]]; then fail "$label: the client exited 0 but the run is $STATE"; fi
	if [[ $CRC != 0 && $CRC != 137 && $STATE == after ]]; then
		ambiguous=$((ambiguous + 1))
		info "$label: committed, but the client lost the connection first and exited $CRC: $(tr '\n' ' ' <<<"$CERR" | head -c 300)"
	fi
	run migrate --dir "$WORK/m"
	if [[ $RC == 0 && $(db_state 0 $N -1 0) == after ]]; then
		pass "$label: fully $STATE (client exit $CRC); the next migrate exits 0, $N/$N applied once"
	else
		fail "$label: fully $STATE, then the next migrate exited $RC ($OUT $ERR) or did not apply each migration once"
	fi
done
fault_finish "$ROUNDS faults at random moments (replay with $REPLAY): $before left fully before, $after fully after ($ambiguous committed while the client saw the connection drop), never in between; next migrate completed each time"
