#!/usr/bin/env bash
# The throwaway PostgreSQL 15 cluster inside the checkout (see lib.sh for its settings).
#   cluster.sh start    create (initdb) if needed and start; a leftover cluster is reused,
#                       a broken one is replaced
#   cluster.sh stop     stop it (fast shutdown); no error when it is not running
#   cluster.sh destroy  stop and delete it
#   cluster.sh env      print the PG* variables to reach it (eval "$(scripts/cluster.sh env)")
#   cluster.sh status
source "$(dirname "$0")/lib.sh"

PGD=$RS_CLUSTER/data

init_cluster() {
  rs_log "creating cluster in $RS_CLUSTER (port $RS_PORT)"
  rm -rf "$RS_CLUSTER"
  mkdir -p "$RS_CLUSTER/sock"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$RS_CLUSTER"
  rs_as_pg "$RS_PG_BIN/initdb" -D "$PGD" -U "$RS_PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$PGD/postgresql.conf" <<CONF
# ragstore throwaway cluster
port = $RS_PORT
listen_addresses = 'localhost'
unix_socket_directories = '$RS_CLUSTER/sock'
# sized like a production server's (about 25% of RAM on the 24 GiB machines we run on): the
# cache benchmark's 100k x 1536 hnsw index (~780 MB) must stay in shared buffers
shared_buffers = 2GB
maintenance_work_mem = 1GB
work_mem = 64MB
max_parallel_maintenance_workers = 2
max_parallel_workers = 4
max_wal_size = 4GB
max_connections = 200
synchronous_commit = off
logging_collector = off
CONF
}

is_running() { rs_as_pg "$RS_PG_BIN/pg_ctl" -D "$PGD" status >/dev/null 2>&1; }

start() {
  [ -f "$PGD/PG_VERSION" ] && [ -f "$PGD/postgresql.conf" ] || init_cluster
  if is_running; then
    rs_log "cluster already running on port $RS_PORT"
  else
    mkdir -p "$RS_CLUSTER/sock"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$RS_CLUSTER" "$RS_CLUSTER/sock"
    # RAGSTORE_POSTGRES: the server executable pg_ctl starts (a valgrind wrapper), and
    # RAGSTORE_PG_OPTS its options (scripts/test.sh valgrind)
    local ctl_opts=()
    [ -n "${RAGSTORE_POSTGRES:-}" ] && ctl_opts+=(-p "$RAGSTORE_POSTGRES")
    [ -n "${RAGSTORE_PG_OPTS:-}" ] && ctl_opts+=(-o "$RAGSTORE_PG_OPTS")
    if ! rs_as_pg "$RS_PG_BIN/pg_ctl" -D "$PGD" -l "$RS_CLUSTER/server.log" "${ctl_opts[@]}" -w -t "${RAGSTORE_START_TIMEOUT:-60}" start >/dev/null; then
      rs_log "cluster did not start (log follows); replacing it"
      tail -5 "$RS_CLUSTER/server.log" >&2 || true
      init_cluster
      # (with the same executable and options: a valgrind wrapper that failed must fail here too)
      rs_as_pg "$RS_PG_BIN/pg_ctl" -D "$PGD" -l "$RS_CLUSTER/server.log" "${ctl_opts[@]}" -w -t "${RAGSTORE_START_TIMEOUT:-60}" start >/dev/null \
        || rs_die "cluster failed to start; see $RS_CLUSTER/server.log"
    fi
    rs_log "cluster started on port $RS_PORT (socket $PGHOST)"
  fi
}

stop() {
  if [ -f "$PGD/PG_VERSION" ] && is_running; then
    rs_as_pg "$RS_PG_BIN/pg_ctl" -D "$PGD" -m fast -w stop >/dev/null
    rs_log "cluster stopped"
  else
    rs_log "cluster not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  destroy) stop; rm -rf "$RS_CLUSTER"; rs_log "cluster deleted" ;;
  status) if is_running; then echo "running on port $RS_PORT, socket $PGHOST"; else echo "not running"; exit 3; fi ;;
  env) printf 'export PGHOST=%q PGPORT=%q PGUSER=%q\n' "$PGHOST" "$PGPORT" "$PGUSER" ;;
  *) echo "usage: $0 start|stop|destroy|status|env" >&2; exit 2 ;;
esac
