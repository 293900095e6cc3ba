#!/usr/bin/env bash
# README command 2: set-up (packages, build, install, throwaway cluster), then every test:
#   unit (GoogleTest via ctest), regression (make installcheck), TAP (make prove_installcheck),
#   clients (unchanged pgvector clients from npm, test/clients, against the throwaway cluster),
#   fuzz (every libFuzzer harness of test/fuzz for RAGSTORE_FUZZ_SECONDS each, default 45).
# Exits non-zero on any failure. Usage: scripts/test.sh [unit|regress|tap|clients|fuzz]...  (default: all)
source "$(dirname "$0")/lib.sh"
cd "$RS_ROOT"

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(unit regress tap clients fuzz)

bash scripts/setup.sh
bash scripts/cluster.sh start
status=0

for part in "${parts[@]}"; do
  case "$part" in
    unit)
      rs_log "unit tests (ctest)"
      cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build build -j"$(nproc)" >/dev/null
      ctest --test-dir build --output-on-failure -j2 || status=1
      ;;
    regress)
      rs_log "regression tests (make installcheck)"
      if ! make installcheck; then
        status=1
        [ -f regression.diffs ] && head -200 regression.diffs
      fi
      ;;
    tap)
      # TAP clusters are started by PostgreSQL::Test::Cluster, which refuses to run as root:
      # run prove as the server's user, from a copy of the tree that user may write to.
      rs_log "TAP tests (make prove_installcheck)"
      tapdir=$RS_CLUSTER/tap
      rm -rf "$tapdir"; mkdir -p "$tapdir"
      tar -C "$RS_ROOT" --exclude=./.cluster --exclude=./test/clients/node_modules --exclude=./.cluster-scale --exclude=./build --exclude=./.git --exclude=./tmp_check --exclude=./results \
          --exclude='*.o' --exclude='*.so' -cf - . | tar -C "$tapdir" -xf -
      [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$tapdir"
      if ! rs_as_pg env RAGSTORE_DATA_DIR="$RS_DATA_DIR" RAGSTORE_ROOT="$RS_ROOT" \
             make -C "$tapdir" prove_installcheck bindir="$RS_PG_BIN" PROVE_TESTS="${PROVE_TESTS:-test/t/*.pl}"; then
        status=1
        for f in "$tapdir"/tmp_check/log/regress_log_*; do
          [ -f "$f" ] && { echo "==== $f"; tail -40 "$f"; }
        done
      fi
      ;;
    clients)
      # LangChain's PGVectorStore and pgvector (node), versions pinned by test/clients/package-lock.json
      # (npm ci from the npm registry when node_modules is missing or older than the lock file).
      rs_log "client tests (test/clients, node --test)"
      if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
        rs_log "clients: Node.js >= 20 is needed"; status=1; continue
      fi
      if [ ! -f test/clients/node_modules/.package-lock.json ] ||
         [ test/clients/package-lock.json -nt test/clients/node_modules/.package-lock.json ]; then
        (cd test/clients && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) || { status=1; continue; }
      fi
      (cd test/clients && node --test --test-reporter=spec) || status=1
      ;;
    fuzz)
      rs_log "fuzzers (scripts/fuzz.sh)"
      bash scripts/fuzz.sh "${RAGSTORE_FUZZ_SECONDS:-45}" || status=1
      ;;
    *) rs_die "unknown part: $part (unit, regress, tap, clients, fuzz)" ;;
  esac
done

if [ $status -ne 0 ]; then rs_log "FAILED"; else rs_log "all tests passed"; fi
exit $status
