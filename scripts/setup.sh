#!/usr/bin/env bash
# Installs the Debian packages ragstore needs (when missing), builds and installs the extension.
# Idempotent. Usage: scripts/setup.sh
source "$(dirname "$0")/lib.sh"

PACKAGES=(build-essential cmake pkg-config postgresql-15 postgresql-server-dev-15
          postgresql-contrib libpq-dev libfaiss-dev libopenblas0-openmp liblapack-dev
          libblas-dev libgtest-dev libipc-run-perl pgbouncer
          gnuplot-nox clang libclang-rt-14-dev clang-format-14)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "${RAGSTORE_SKIP_APT:-0}" = 1 ] && rs_die "missing packages: ${missing[*]}"
  [ "$(id -u)" = 0 ] || rs_die "missing packages (run as root to install): ${missing[*]}"
  rs_log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Do not let the package create and start the default cluster on 5432: we run our own.
  mkdir -p /etc/postgresql-common
  if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
    echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rs_log "building ($(nproc) jobs)"
make -C "$RS_ROOT" -j"$(nproc)" PG_CONFIG=/usr/bin/pg_config >/dev/null

# A private install: PostgreSQL finds its share and lib directories relative to the postgres
# binary, so a copy of bin/ with symlinked lib/ and share/ (as PostgreSQL's own tmp_install)
# gives each checkout its own installed ragstore.
if [ -n "$RS_PRIVATE" ]; then
  sys_lib=/usr/lib/postgresql/15/lib sys_share=/usr/share/postgresql/15
  if [ ! -x "$RS_PG_BIN/postgres" ]; then
    rs_log "creating private PostgreSQL tree in $RS_PRIVATE"
    mkdir -p "$RS_PG_BIN" "$RS_PRIVATE$sys_lib" "$RS_PRIVATE$sys_share/extension"
    cp -a "$RS_SYSTEM_PG_BIN"/. "$RS_PG_BIN"/
    for f in "$sys_lib"/*; do ln -sfn "$f" "$RS_PRIVATE$sys_lib/$(basename "$f")"; done
    for f in "$sys_share"/*; do
      [ "$(basename "$f")" = extension ] || ln -sfn "$f" "$RS_PRIVATE$sys_share/$(basename "$f")"
    done
    for f in "$sys_share"/extension/*; do
      case "$(basename "$f")" in ragstore*) ;; *) ln -sfn "$f" "$RS_PRIVATE$sys_share/extension/$(basename "$f")" ;; esac
    done
  fi
  rm -f "$RS_PRIVATE$sys_lib/ragstore.so" "$RS_PRIVATE$sys_share"/extension/ragstore*
  # The name `vector`: files of ours (linked from a system-wide install or left by the last run)
  # go and are installed again below; a real pgvector's stay linked, and `make install` then
  # installs ragstore under its own name only (scripts/vector_name.sh).
  if [ ! -e "$RS_PRIVATE$sys_share/extension/vector.control" ] ||
     grep -q "^module_pathname *= *'\$libdir/ragstore'" "$RS_PRIVATE$sys_share/extension/vector.control"; then
    rm -f "$RS_PRIVATE$sys_share"/extension/vector.control "$RS_PRIVATE$sys_share"/extension/vector--*.sql
  fi
  make -C "$RS_ROOT" install DESTDIR="$RS_PRIVATE" PG_CONFIG=/usr/bin/pg_config >/dev/null
  rs_log "installed ragstore into $RS_PRIVATE$sys_lib"
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  make -C "$RS_ROOT" install >/dev/null
else
  sudo -n make -C "$RS_ROOT" install >/dev/null || rs_die "make install needs root"
fi
rs_log "installed ragstore into $(pg_config --pkglibdir)"
