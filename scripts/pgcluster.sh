# Source this file: a private, throwaway PostgreSQL 15 cluster (never the system one).
#   pg_cluster_start   initdb + start in a fresh mktemp dir; exports PGHOST PGPORT PGUSER PGDATABASE
#   pg_cluster_stop    stop it and remove the dir
# The server runs as `postgres` when we are root (PostgreSQL refuses root). Everything
# lives in one directory under /tmp owned by that user, since the checkout itself may be
# unreadable to it. Only a Unix socket in that directory: no TCP port is opened.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pg_as_owner() {
	if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_cluster_start() {
	PG_CLUSTER_DIR=$(mktemp -d /tmp/dbkit-pg.XXXXXX)
	chmod 755 "$PG_CLUSTER_DIR"
	[[ $(id -u) -eq 0 ]] && chown postgres: "$PG_CLUSTER_DIR"
	pg_as_owner "$PG_BIN/initdb" -D "$PG_CLUSTER_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
		>"$PG_CLUSTER_DIR/initdb.log" 2>&1 || { cat "$PG_CLUSTER_DIR/initdb.log" >&2; return 1; }
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -l "$PG_CLUSTER_DIR/server.log" -w -t 60 \
		-o "-k $PG_CLUSTER_DIR -c listen_addresses= -p 5432 ${PG_CLUSTER_OPTS:-}" start >/dev/null ||
		{ cat "$PG_CLUSTER_DIR/server.log" >&2; return 1; }
	export PG_CLUSTER_DIR PGHOST=$PG_CLUSTER_DIR PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
	unset DATABASE_URL PGPASSWORD PGSERVICE
}

pg_cluster_stop() {
	[[ -n ${PG_CLUSTER_DIR:-} && -d $PG_CLUSTER_DIR ]] || return 0
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_CLUSTER_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$PG_CLUSTER_DIR"
	unset PG_CLUSTER_DIR
}
