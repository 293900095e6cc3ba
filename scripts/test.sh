#!/usr/bin/env bash
# README command 2: set-up (packages, build, install, throwaway cluster), then every test:
#   format (every tracked C++ file matches .clang-format, scripts/check-format.sh),
#   unit (GoogleTest via ctest), regression (make installcheck), TAP (make prove_installcheck),
#   clients (unchanged pgvector clients from npm, test/clients, against the throwaway cluster),
#   fuzz (every libFuzzer harness of test/fuzz for RAGSTORE_FUZZ_SECONDS each, default 20; it
#   runs while the TAP files wait), then the regression suite and the fault TAP tests (below)
#   again on an assert-enabled PostgreSQL (debug) and on an AddressSanitizer + UBSan one (asan).
# Exits non-zero on any failure. Prints the time of each part at the end.
# Usage: scripts/test.sh [part]...  (default: format unit regress tap clients fuzz debug asan)
#   unit | regress | tap | clients   against Debian's server (the system's, or RAGSTORE_PRIVATE_INSTALL)
#   debug      regression + the fault TAP tests (RAGSTORE_DEBUG_TAP: file names, or "all") on
#              PostgreSQL built with --enable-cassert (scripts/debug-server.sh debug): any
#              assertion failure (TRAP) or crashed backend in a server log fails the run
#   asan       regression + the fault TAP tests (RAGSTORE_ASAN_TAP) on PostgreSQL and ragstore
#              built with AddressSanitizer + UndefinedBehaviorSanitizer: any sanitizer report fails
#              the run
#   The fault TAP tests: every file of test/t that ends by verifying its indexes (verify_clean:
#   the crash, concurrency, vacuum, replica and fault tests, CONTRIBUTING.md) or whose name says
#   crash, concurrency, replica or cancel; a new such file is picked up without a list to edit.
#   Markers in a TAP file's header: `# ragstore-tap: long` runs it first (it takes minutes);
#   `# ragstore-tap: not-asan` leaves it out of the asan part.
#   TAP files run RAGSTORE_TAP_JOBS at a time (default 3: they mostly wait for servers); the
#   debug and asan parts run at the same time (with RAGSTORE_TAP_JOBS=1 one after the other).
#   valgrind   the regression suite only (valgrind is 20-50x slower; RAGSTORE_VALGRIND_REGRESS
#              names a subset, e.g. "guard hnsw_vector") on the debug server run under valgrind
#              memcheck with PostgreSQL's memory-context annotations: any valgrind error fails the run
# The debugging servers are built once (about 10 minutes each at -j2) and cached; their clusters
# are <cluster dir>-<variant> on port RAGSTORE_PORT + 1000 (debug, valgrind) and + 2000 (asan).
# They, and ragstore against them, are built in the background, at low priority, from the start
# (the other parts leave a core mostly idle); the debug and asan parts then find them built.
source "$(dirname "$0")/lib.sh"
cd "$RS_ROOT"

parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(format unit regress tap clients fuzz debug asan)
has_part() { case " ${parts[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
TAP_JOBS=${RAGSTORE_TAP_JOBS:-3}
run_start=$(date +%s)
part_times=()

# The fault TAP tests (see the header): what an assertion or memory error would hide in.
# $1 = asan leaves out the files marked `# ragstore-tap: not-asan` (recall measured on real data
# at size: minutes under ASan, and their code paths are in the regression suite, which runs there).
fault_tap_files() {
  local f
  for f in test/t/*.pl; do
    [ "${1:-}" = asan ] && grep -q '^# ragstore-tap: not-asan' "$f" && continue
    if grep -q verify_clean "$f" || [[ $(basename "$f") =~ crash|concurren|replica|cancel ]]; then
      printf '%s ' "$f"
    fi
  done
}

# The TAP files in $1 in the order to run them: those marked `# ragstore-tap: long` (the few
# that take minutes) first, so that with several files at a time the longest do not start last.
order_tap_files() {
  local f long=() rest=()
  for f in $1; do
    if grep -q '^# ragstore-tap: long' "$f" 2>/dev/null; then long+=("$f"); else rest+=("$f"); fi
  done
  echo "${long[@]}" "${rest[@]}"
}

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
  local tapdir=$1 tests; shift
  tests=$(order_tap_files "$1"); shift
  rm -rf "$tapdir"; copy_tree "$tapdir"
  [ "$(id -u)" = 0 ] && chown -R "$RS_PG_USER" "$tapdir"
  # Ports are reserved in one directory for every checkout on the machine (PostgreSQL::Test's
  # lock files), so TAP runs of several checkouts, and parallel files, never take the same one.
  local portdir=${PG_TEST_PORT_DIR:-/tmp/ragstore-tap-portlock}
  mkdir -p "$portdir" && chmod 1777 "$portdir" 2>/dev/null || true
  # shellcheck disable=SC2086
  if ! rs_as_pg env RAGSTORE_DATA_DIR="$RS_DATA_DIR" RAGSTORE_ROOT="$RS_ROOT" PG_TEST_PORT_DIR="$portdir" \
         ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
         make -C "$tapdir" prove_installcheck "$@" PROVE_TESTS="$tests" PROVE_JOBS="$TAP_JOBS"; then
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
# its tree of our own (as setup.sh's private install). Sets V_INST, V_TREE, V_EXT, V_CLUSTER,
# V_PORT (only those with $2 = vars-only).
prepare_variant() {
  local variant=$1 build=$1
  [ "$variant" = valgrind ] && build=debug
  # (every step is checked: callers test the status, which turns errexit off in here)
  V_INST=$(bash scripts/debug-server.sh "$build") || return 1
  local base=$RS_ROOT/build/pg-$build
  V_TREE=$base/tree V_EXT=$base/ext
  V_CLUSTER=$RS_CLUSTER-$build
  # debug (and valgrind, on the debug build) on RAGSTORE_PORT + 1000, asan on + 2000: both can run at once
  V_PORT=$((RS_PORT + 1000))
  [ "$build" = asan ] && V_PORT=$((RS_PORT + 2000))
  [ "${2:-}" = vars-only ] && return 0
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
  copy_tree "$V_EXT" || return 1
  make -C "$V_EXT" -j2 PG_CONFIG="$V_INST/bin/pg_config" >/dev/null || return 1
  rm -f "$V_TREE"/lib/ragstore.so "$V_TREE"/share/extension/ragstore*
  make -C "$V_EXT" install PG_CONFIG="$V_INST/bin/pg_config" pkglibdir="$V_TREE/lib" datadir="$V_TREE/share" >/dev/null || return 1
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$V_CLUSTER"; chown "$RS_PG_USER" "$V_CLUSTER"
  fi
}

# prepare_variant once per run of this script and variant, under a lock: the background
# preparation below and a part may both ask, in either order; the second only sets V_* (a
# second install would replace ragstore.so under a running test).
RUN_ID="$$ $(date +%s%N)"
prepare_variant_locked() {
  local build=$1
  [ "$build" = valgrind ] && build=debug
  mkdir -p "$RS_ROOT/build"
  exec 8>"$RS_ROOT/build/pg-$build.lock"
  flock 8
  local rc=0
  if [ "$(cat "$RS_ROOT/build/pg-$build.prepared" 2>/dev/null)" = "$RUN_ID" ]; then
    prepare_variant "$1" vars-only || rc=1
  elif prepare_variant "$1"; then
    echo "$RUN_ID" > "$RS_ROOT/build/pg-$build.prepared"
  else
    rc=1
  fi
  exec 8>&-
  return $rc
}

# Runs scripts/cluster.sh for the variant's cluster.
variant_cluster() {
  RAGSTORE_PG_BIN=$V_TREE/bin RAGSTORE_CLUSTER_DIR=$V_CLUSTER RAGSTORE_PORT=$V_PORT \
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
  PGHOST=$V_CLUSTER/sock PGPORT=$V_PORT make -C "$V_EXT" installcheck PG_CONFIG="$V_INST/bin/pg_config" "${only[@]}" || {
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

# The debug or asan part: the regression suite and the fault TAP files on that server.
run_variant() {
  local variant=$1 rc=0 name="assert-enabled" tests
  prepare_variant_locked "$variant" || { rs_log "$variant: the server or ragstore against it did not build"; return 1; }
  if [ "$variant" = asan ]; then
    name="ASan+UBSan"
    # detect_leaks=0: the postmaster and backends exit without freeing what lives until exit.
    # abort_on_error: a report ends the process (the run fails on it anyway, see check_logs).
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:print_stacktrace=1:disable_coredump=1
    export UBSAN_OPTIONS=print_stacktrace=1:suppressions=$RS_ROOT/test/sanitizers/ubsan.supp
    tests=${PROVE_TESTS:-${RAGSTORE_ASAN_TAP:-$(fault_tap_files asan)}}
  else
    tests=${PROVE_TESTS:-${RAGSTORE_DEBUG_TAP:-$(fault_tap_files)}}
  fi
  rs_log "regression tests on the $name server"
  variant_regress || rc=1
  rs_log "TAP tests on the $name server"
  variant_tap "$tests" || rc=1
  [ $rc -eq 0 ] && rs_log "$variant part passed" || rs_log "$variant part FAILED"
  return $rc
}

bash scripts/setup.sh
# The debugging servers (about 12 and 8 CPU-minutes, cached) and ragstore against them build in
# the background, at low priority, while the other parts run (the TAP files mostly wait).
variants=()
has_part debug || has_part valgrind && variants+=(debug)
has_part asan && variants+=(asan)
if [ ${#variants[@]} -gt 0 ]; then
  mkdir -p build
  rs_log "building the debugging servers (${variants[*]}) and ragstore against them in the background (log: build/variants.log)"
  ( renice -n 10 -p "$BASHPID" >/dev/null 2>&1 || true
    for v in "${variants[@]}"; do prepare_variant_locked "$v" || exit 1; done ) </dev/null >build/variants.log 2>&1 &
fi
if has_part regress || has_part tap || has_part clients; then bash scripts/cluster.sh start; fi
status=0
fuzz_pid= fuzz_done= asan_pid=

for part in "${parts[@]}"; do
  part_start=$(date +%s)
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
      # The fuzzers (CPU-bound, one core) run meanwhile: the TAP files mostly wait.
      if has_part fuzz && [ -z "$fuzz_done" ]; then
        rs_log "fuzzers (scripts/fuzz.sh) in the background while the TAP files run (log: build/fuzz.out)"
        mkdir -p build
        nice -n 5 bash scripts/fuzz.sh "${RAGSTORE_FUZZ_SECONDS:-20}" </dev/null >build/fuzz.out 2>&1 &
        fuzz_pid=$! fuzz_done=1
      fi
      rs_log "TAP tests (make prove_installcheck, $TAP_JOBS at a time)"
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
      if [ -n "$fuzz_pid" ]; then
        rs_log "fuzzers (started with the TAP tests)"
        wait "$fuzz_pid" || status=1
        grep -E '^\[ragstore\]|property violated|ERROR: |runtime error' build/fuzz.out || true
      else
        rs_log "fuzzers (scripts/fuzz.sh)"
        bash scripts/fuzz.sh "${RAGSTORE_FUZZ_SECONDS:-20}" || status=1
      fi
      fuzz_done=1
      ;;
    debug | asan)
      # The two debugging servers' parts run at the same time (their TAP files mostly wait):
      # debug here, asan in the background with its output kept for the asan part.
      if [ "$part" = debug ] && has_part asan && [ -z "$asan_pid" ] && [ "$TAP_JOBS" -gt 1 ]; then
        rs_log "the asan part runs meanwhile (output: build/asan.out, printed by the asan part)"
        ( run_variant asan ) </dev/null >build/asan.out 2>&1 &
        asan_pid=$!
      fi
      if [ "$part" = asan ] && [ -n "$asan_pid" ]; then
        rs_log "asan part (started with the debug part):"
        wait "$asan_pid" || status=1
        cat build/asan.out
      else
        run_variant "$part" || status=1
      fi
      ;;
    valgrind)
      prepare_variant_locked valgrind || rs_die "valgrind: the debug server or ragstore against it did not build"
      command -v valgrind >/dev/null || {
        [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null; }
      # (outside the cluster's directory: a fresh cluster replaces that directory)
      vgdir=$RS_ROOT/build/valgrind
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
      # A server that did not run under valgrind leaves no log here: that is a failure, not a pass.
      nlogs=$(find "$vgdir" -name '*.log' | wc -l)
      nerr=$(cat "$vgdir"/*.log 2>/dev/null | grep -c VALGRINDERROR-BEGIN || true)
      rs_log "valgrind: $nlogs server processes checked, $nerr errors"
      [ "$nlogs" -gt 0 ] || { rs_log "valgrind: no process ran under valgrind"; status=1; }
      if [ "$nerr" -gt 0 ]; then
        rs_log "valgrind errors:"
        for f in $(grep -l VALGRINDERROR-BEGIN "$vgdir"/*.log); do echo "==== $f"; head -60 "$f"; done
        status=1
      fi
      ;;
    *) rs_die "unknown part: $part (unit, regress, tap, clients, fuzz, debug, asan, valgrind)" ;;
  esac
  part_times+=("$part $(( $(date +%s) - part_start )) s")
done

rs_log "time per part: ${part_times[*]}; total $(( $(date +%s) - run_start )) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
if [ $status -ne 0 ]; then rs_log "FAILED"; else rs_log "all tests passed"; fi
exit $status
