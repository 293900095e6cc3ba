# ragstore scripts: shared settings. Sourced, not run.
#   RAGSTORE_PORT         port of the throwaway cluster (default 54329)
#   RAGSTORE_CLUSTER_DIR  where its data directory, socket and log live (default <checkout>/.cluster)
#   RAGSTORE_DATA_DIR     the real embeddings (default <checkout>/../shared/data)
#   RAGSTORE_SKIP_APT=1   never call apt-get (packages must already be there)
#   RAGSTORE_PRIVATE_INSTALL=<dir>  install into a private copy of the PostgreSQL tree under <dir>
#                         instead of the system's (several checkouts on one machine; see setup.sh)
#   RAGSTORE_PG_BIN=<dir> the server's bin directory, overriding both (set by scripts/test.sh for
#                         the debugging servers of scripts/debug-server.sh)
set -euo pipefail

RS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RS_SYSTEM_PG_BIN=/usr/lib/postgresql/15/bin
RS_PRIVATE=${RAGSTORE_PRIVATE_INSTALL:-}
if [ -n "${RAGSTORE_PG_BIN:-}" ]; then
  # another server's bin directory (scripts/test.sh debug|asan|valgrind: a debugging build)
  RS_PG_BIN=$RAGSTORE_PG_BIN
  export PATH=$RS_PG_BIN:$PATH
elif [ -n "$RS_PRIVATE" ]; then
  RS_PG_BIN=$RS_PRIVATE$RS_SYSTEM_PG_BIN
  export PATH=$RS_PG_BIN:$PATH
else
  RS_PG_BIN=$RS_SYSTEM_PG_BIN
fi
RS_PORT=${RAGSTORE_PORT:-54329}
RS_DATA_DIR=${RAGSTORE_DATA_DIR:-$RS_ROOT/../shared/data}
[ -d "$RS_DATA_DIR" ] && RS_DATA_DIR=$(cd "$RS_DATA_DIR" && pwd)

# The cluster lives in the checkout unless the path is too long for a Unix socket (107 bytes)
# or the server's user cannot reach it; then under /tmp, keyed by the checkout's path.
rs_cluster_dir() {
  local dir=${RAGSTORE_CLUSTER_DIR:-$RS_ROOT/.cluster}
  if [ ${#dir} -gt 80 ]; then
    dir=/tmp/ragstore-$(printf '%s' "$RS_ROOT" | md5sum | cut -c1-12)
  fi
  printf '%s' "$dir"
}
RS_CLUSTER=$(rs_cluster_dir)

# The server runs as `postgres` when we are root (PostgreSQL refuses to run as root).
if [ "$(id -u)" = 0 ]; then
  RS_PG_USER=postgres
  rs_as_pg() { runuser -u postgres -- "$@"; }
else
  RS_PG_USER=$(id -un)
  rs_as_pg() { "$@"; }
fi

export PGHOST=$RS_CLUSTER/sock PGPORT=$RS_PORT PGUSER=$RS_PG_USER PGDATABASE=${PGDATABASE:-postgres}

rs_log() { printf '[ragstore] %s\n' "$*" >&2; }
rs_die() { printf '[ragstore] error: %s\n' "$*" >&2; exit 1; }
