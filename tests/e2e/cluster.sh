#!/usr/bin/env bash
# ctest fixture: start/stop the private cluster every e2e test shares.
# Its coordinates go to $E2E_STATE for the tests to source.
set -euo pipefail
source "$DBKIT_SRC/scripts/pgcluster.sh"
case ${1:-} in
start)
	"$DBKIT_SRC/tests/check_installed.sh" "$DBKIT_SRC"
	if [[ -f $E2E_STATE ]]; then
		source "$E2E_STATE"
		pg_cluster_stop
	fi
	pg_cluster_start
	printf 'export PG_CLUSTER_DIR=%q PGHOST=%q PGPORT=%q PGUSER=%q PGDATABASE=%q\n' \
		"$PG_CLUSTER_DIR" "$PGHOST" "$PGPORT" "$PGUSER" "$PGDATABASE" >"$E2E_STATE"
	echo "cluster up in $PG_CLUSTER_DIR"
	;;
stop)
	[[ -f $E2E_STATE ]] || exit 0
	source "$E2E_STATE"
	pg_cluster_stop
	rm -f "$E2E_STATE"
	echo "cluster stopped"
	;;
*)
	echo "usage: cluster.sh start|stop" >&2
	exit 2
	;;
esac
