#!/usr/bin/env bash
# README command 2: set-up (packages, build, install, throwaway cluster), then every test:
#   format (every tracked C++ file matches .clang-format, scripts/check-format.sh),
#   unit (GoogleTest via ctest), regression (make installcheck), TAP (make prove_installcheck),
#   clients (unchanged pgvector clients from npm, test/clients, against the throwaway cluster),
#   fuzz (every libFuzzer harness of test/fuzz for RAGSTORE_FUZZ_SECONDS each, default 20),
#   then the regression suite and the crash, concurrency and replica TAP tests again on an
#   assert-enabled PostgreSQL (debug).
# Exits non-zero on any failure.
# Usage: scripts/test.sh [part]...  (default: format unit regress tap clients fuzz debug)
#   unit | regress | tap | clients   against Debian's server (the system's, or RAGSTORE_PRIVATE_INSTALL)
#   debug      regression + TAP (RAGSTORE_DEBUG_TAP, default the crash, concurrency and replica
#              tests; "all" for every file) on PostgreSQL built with --enable-cassert
#              (scripts/debug-server.sh debug): any assertion failure (TRAP) or crashed backend in
#              a server log fails the run
#   asan       regression + TAP (RAGSTORE_ASAN_TAP, default all) on PostgreSQL and ragstore built
#              with AddressSanitizer + UndefinedBehaviorSanitizer: any sanitizer report fails the run
#   valgrind   the regression suite only (valgrind is 20-50x slower; RAGSTORE_VALGRIND_REGRESS
#              names a subset, e.g. "guard hnsw_vector") on the debug server run under valgrind
#              memcheck with PostgreSQL's memory-context annotations: any valgrind error fails the run
# The debugging servers are built once (about 10 minutes each at -j2) and cached; their clusters
# are <cluster dir>-<variant> on port RAGSTORE_PORT + 1000.
source "$(dirname "$0")/lib.sh"
cd "$RS_ROOT"

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(format unit regress tap clients fuzz debug)

bash scripts/setup.sh
# The assert-enabled server is built once (about 12 CPU-minutes) and cached. The other parts
# leave one of the two cores mostly idle, so it builds in the background, at low priority, while
# they run; the debug part then finds it built (scripts/debug-server.sh waits on its lock).
case " ${parts[*]} " in *" debug "*|*" valgrind "*)
  mkdir -p build
  rs_log "building the assert-enabled server in the background (log: build/debug-server.log)"
  nice -n 10 bash scripts/debug-server.sh debug >build/debug-server.log 2>&1 &
esac
case " ${parts[*]} " in *" regress "*|*" tap "*|*" clients "*) bash scripts/cluster.sh start ;; esac
status=0

# The crash, concurrency and replica TAP tests: what an assertion or memory error would hide in.
DEBUG_TAP_DEFAULT="test/t/001_extension.pl test/t/021_hnsw_crash.pl test/t/022_hnsw_replica.pl
  test/t/023_hnsw_concurrency.pl test/t/041_ivfflat_replica.pl test/t/042_ivfflat_crash.pl
  test/t/043_ivfflat_progress_cancel.pl test/t/061_interactions_concurrency.pl
  test/t/080_replica_same_results.pl"

# Copies the checkout for the server's user (TAP) or for a build of its own (mtimes kept, so
# make rebuilds only what changed).
copy_tree() {
  mkdir -p "$1"
  tar -C "$RS_ROOT" --exclude=./.cluster --exclude='./.cluster-*' --exclude=./build --exclude=./.git \
      --exclude=./test/clients/node_modules \
      --exclude=./tmp_check --exclude=./results --exclude='*.o' --exclude='*.so' -cf - . | tar -C "$1" -xf -
}

# TAP files as the server's user, from a copy of the tree that user may write to
# (PostgreSQL::Test::Cluster refuses to run as root). $1: copy dir, $2: tests, rest: make args.
run_tap() {
  local tapdir=$1 tests=$2; shift 2
  rm -rf "$tapdir"; copy_tree "$tapdir"
  [ "$(id -u)" = 0 ] && chown -R "$RS_PG_USER" "$tapdir"
  # shellcheck disable=SC2086
  if ! rs_as_pg env RAGSTORE_DATA_DIR="$RS_DATA_DIR" RAGSTORE_ROOT="$RS_ROOT" \
         ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
         make -C "$tapdir" prove_installcheck "$@" PROVE_TESTS="$tests"; then
    for f in "$tapdir"/tmp_check/log/regress_log_*; do
      [ -f "$f" ] && { echo "==== $f"; tail -40 "$f"; }
    done
    return 1
  fi
}

# Server logs with an assertion failure, a sanitizer report or a backend killed by a signal
# other than the tests' own (SIGKILL, SIGQUIT of an immediate shutdown): printed, and non-zero.
check_logs() {
  local bad=0 f
  for f in "$@"; do
    [ -f "$f" ] || continue
    if grep -qE '^TRAP: |ERROR: AddressSanitizer|runtime error: |ERROR: LeakSanitizer|terminated by signal (4|6|7|8|11)[^0-9]' "$f"; then
      rs_log "problem reported in $f:"
      grep -nE -A30 '^TRAP: |ERROR: AddressSanitizer|runtime error: |terminated by signal (4|6|7|8|11)[^0-9]' "$f" | head -80
      bad=1
    fi
  done
  return $bad
}

# A debugging server (debug, asan) with ragstore built against it and installed into a copy of
# its tree of our own (as setup.sh's private install). Sets V_INST, V_TREE, V_EXT, V_CLUSTER.
prepare_variant() {
  local variant=$1 build=$1
  [ "$variant" = valgrind ] && build=debug
  V_INST=$(bash scripts/debug-server.sh "$build")
  local base=$RS_ROOT/build/pg-$build
  V_TREE=$base/tree V_EXT=$base/ext
  V_CLUSTER=$RS_CLUSTER-$build
  # the copy of the server's tree: bin/ copied (PostgreSQL finds lib/ and share/ relative to its
  # real executable), lib/ and share/ linked entry by entry, ragstore installed for real
  if [ "$(cat "$V_TREE/.source" 2>/dev/null)" != "$V_INST $(cat "$V_INST/.complete")" ]; then
    rm -rf "$V_TREE"; mkdir -p "$V_TREE/bin" "$V_TREE/lib" "$V_TREE/share/extension"
    cp -a "$V_INST/bin/." "$V_TREE/bin/"
    local f
    for f in "$V_INST"/lib/*; do ln -sfn "$f" "$V_TREE/lib/"; done
    for f in "$V_INST"/share/*; do [ "$(basename "$f")" = extension ] || ln -sfn "$f" "$V_TREE/share/"; done
    for f in "$V_INST"/share/extension/*; do ln -sfn "$f" "$V_TREE/share/extension/"; done
    echo "$V_INST $(cat "$V_INST/.complete")" > "$V_TREE/.source"
  fi
  rs_log "building ragstore against $V_INST"
  copy_tree "$V_EXT"
  make -C "$V_EXT" -j2 PG_CONFIG="$V_INST/bin/pg_config" >/dev/null
  rm -f "$V_TREE"/lib/ragstore.so "$V_TREE"/share/extension/ragstore*
  make -C "$V_EXT" install PG_CONFIG="$V_INST/bin/pg_config" pkglibdir="$V_TREE/lib" datadir="$V_TREE/share" >/dev/null
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$V_CLUSTER"; chown "$RS_PG_USER" "$V_CLUSTER"
  fi
}

# Runs scripts/cluster.sh for the variant's cluster.
variant_cluster() {
  RAGSTORE_PG_BIN=$V_TREE/bin RAGSTORE_CLUSTER_DIR=$V_CLUSTER RAGSTORE_PORT=$((RS_PORT + 1000)) \
    bash scripts/cluster.sh "$@"
}

# The regression suite (or the tests named in $1) against the variant's cluster (started fresh,
# its log kept per run).
variant_regress() {
  local rc=0
  # a server left running by an interrupted run is not reused (its log would mix in)
  [ -f "$V_CLUSTER/data/postmaster.pid" ] &&
    rs_as_pg "$V_TREE/bin/pg_ctl" -D "$V_CLUSTER/data" -m immediate -w stop >/dev/null 2>&1
  rm -f "$V_CLUSTER/server.log"
  variant_cluster start || return 1
  local only=()
  [ -n "${1:-}" ] && only=(REGRESS="$1")
  PGHOST=$V_CLUSTER/sock PGPORT=$((RS_PORT + 1000)) make -C "$V_EXT" installcheck PG_CONFIG="$V_INST/bin/pg_config" "${only[@]}" || {
    rc=1; [ -f "$V_EXT/regression.diffs" ] && head -200 "$V_EXT/regression.diffs"; }
  variant_cluster stop || rc=1
  check_logs "$V_CLUSTER/server.log" || rc=1
  return $rc
}

variant_tap() {
  local tests=$1 rc=0
  [ "$tests" = all ] && tests="test/t/*.pl"
  tests=$(echo $tests)  # one line for make
  run_tap "$V_CLUSTER/tap" "$tests" PG_CONFIG="$V_INST/bin/pg_config" bindir="$V_TREE/bin" || rc=1
  check_logs "$V_CLUSTER"/tap/tmp_check/log/*.log || rc=1
  return $rc
}

for part in "${parts[@]}"; do
  case "$part" in
    format)
      rs_log "C++ format (scripts/check-format.sh)"
      bash scripts/check-format.sh || status=1
      ;;
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
      rs_log "TAP tests (make prove_installcheck)"
      run_tap "$RS_CLUSTER/tap" "${PROVE_TESTS:-test/t/*.pl}" bindir="$RS_PG_BIN" || status=1
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
      bash scripts/fuzz.sh "${RAGSTORE_FUZZ_SECONDS:-20}" || status=1
      ;;
    debug)
      prepare_variant debug
      rs_log "regression tests on the assert-enabled server"
      variant_regress || status=1
      rs_log "TAP tests on the assert-enabled server"
      variant_tap "${PROVE_TESTS:-${RAGSTORE_DEBUG_TAP:-$DEBUG_TAP_DEFAULT}}" || status=1
      ;;
    asan)
      prepare_variant asan
      # detect_leaks=0: the postmaster and backends exit without freeing what lives until exit.
      # abort_on_error: a report ends the process (the run fails on it anyway, see check_logs).
      export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:print_stacktrace=1:disable_coredump=1
      export UBSAN_OPTIONS=print_stacktrace=1:suppressions=$RS_ROOT/test/sanitizers/ubsan.supp
      rs_log "regression tests on the ASan+UBSan server"
      variant_regress || status=1
      rs_log "TAP tests on the ASan+UBSan server"
      variant_tap "${PROVE_TESTS:-${RAGSTORE_ASAN_TAP:-all}}" || status=1
      ;;
    valgrind)
      prepare_variant valgrind
      command -v valgrind >/dev/null || {
        [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null; }
      vgdir=$V_CLUSTER/valgrind
      rm -rf "$vgdir"; mkdir -p "$vgdir"
      [ "$(id -u)" = 0 ] && chown "$RS_PG_USER" "$vgdir"
      # Every server process under memcheck (forked backends are followed; --trace-children for
      # what the server execs), PostgreSQL's own suppressions plus ours (test/sanitizers).
      cat > "$V_TREE/bin/postgres-valgrind" <<VG
#!/bin/sh
exec valgrind --quiet --leak-check=no --track-origins=no --num-callers=30 --error-exitcode=99 \\
  --trace-children=yes --trace-children-skip='*/sh,*/bash,*/rm,*/cat,*/cp,*/test' \\
  --suppressions=$V_INST/valgrind.supp --suppressions=$RS_ROOT/test/sanitizers/valgrind.supp \\
  --error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END --log-file=$vgdir/%p.log \\
  "$V_TREE/bin/postgres" "\$@"
VG
      chmod +x "$V_TREE/bin/postgres-valgrind"
      rs_log "regression tests on the debug server under valgrind (logs in $vgdir)"
      RAGSTORE_POSTGRES=$V_TREE/bin/postgres-valgrind RAGSTORE_START_TIMEOUT=600 \
        RAGSTORE_PG_OPTS="-c shared_buffers=256MB" \
        variant_regress "${RAGSTORE_VALGRIND_REGRESS:-}" || status=1
      if grep -l VALGRINDERROR-BEGIN "$vgdir"/*.log >/dev/null 2>&1; then
        rs_log "valgrind errors:"
        for f in $(grep -l VALGRINDERROR-BEGIN "$vgdir"/*.log); do echo "==== $f"; head -60 "$f"; done
        status=1
      fi
      ;;
    *) rs_die "unknown part: $part (unit, regress, tap, clients, fuzz, debug, asan, valgrind)" ;;
  esac
done

if [ $status -ne 0 ]; then rs_log "FAILED"; else rs_log "all tests passed"; fi
exit $status
