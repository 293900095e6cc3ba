#!/usr/bin/env bash
# README command 1: set-up (packages, build, install), the throwaway cluster, a fresh database
# `ragstore_demo`, then every part in scripts/demo.d/*.sh in name order (each area adds its own
# part there). Idempotent: the database is replaced on every run. Exits non-zero when a part
# fails (a part checks what it shows, e.g. recall 1.000 for exact search).
#
# Each part runs with these exported: PGHOST PGPORT PGUSER PGDATABASE=ragstore_demo (psql
# reaches the demo database), RAGSTORE_ROOT (the checkout), RAGSTORE_DATA_DIR (the real data;
# may be absent: parts then fall back to generated data and say so), RAGSTORE_DEMO_LIB (source
# it for the helpers: demo_step/demo_done headers with timings, demo_psql, load_fvecs,
# load_ivecs; see scripts/demo_lib.sh), RAGSTORE_DEMO_SCALE (1 with `make demo SCALE=1` or
# RAGSTORE_DEMO_SCALE=1: scripts/demo.d/90_scale.sh also starts a primary, a replica and
# PgBouncer). Parts record what they built and measured in the table demo_summary, which the
# last part prints; demo_datasets names the loaded data sets (base, queries, ground truth).
source "$(dirname "$0")/lib.sh"
cd "$RS_ROOT"

t0=$(date +%s%3N)
bash scripts/setup.sh
bash scripts/cluster.sh start

export PGDATABASE=ragstore_demo RAGSTORE_ROOT=$RS_ROOT RAGSTORE_DATA_DIR=$RS_DATA_DIR
export RAGSTORE_DEMO_LIB=$RS_ROOT/scripts/demo_lib.sh
export RAGSTORE_DEMO_SCALE=${SCALE:-${RAGSTORE_DEMO_SCALE:-0}}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
psql -X -q -v ON_ERROR_STOP=1 -d postgres \
  -c "DROP DATABASE IF EXISTS ragstore_demo WITH (FORCE)" -c "CREATE DATABASE ragstore_demo"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION ragstore" \
  -c "CREATE TABLE demo_datasets (name text PRIMARY KEY, base text, query text, truth text, op text, nq int, label text)" \
  -c "CREATE TABLE demo_summary (n serial, what text, data text, build text, size text, setting text, recall text, p50_ms text, note text)"
rs_log "database ragstore_demo ready ($(psql -X -At -c "SELECT 'ragstore ' || extversion FROM pg_extension WHERE extname = 'ragstore'"), data: $RAGSTORE_DATA_DIR)"

failed=()
for part in scripts/demo.d/*.sh; do
  [ -e "$part" ] || continue
  if ! bash "$part"; then
    rs_log "demo part $part FAILED"
    failed+=("$part")
  fi
done

ms=$(( $(date +%s%3N) - t0 ))
elapsed=$(printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)))
if [ ${#failed[@]} -gt 0 ]; then
  rs_log "demo FAILED in ${elapsed}s: ${failed[*]}"
  exit 1
fi
rs_log "demo finished in ${elapsed}s; the database stays up: eval \"\$(bash scripts/cluster.sh env)\"; psql -d ragstore_demo"
