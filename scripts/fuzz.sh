#!/usr/bin/env bash
# The libFuzzer harnesses of test/fuzz: builds each with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer, libFuzzer from libclang-rt-14-dev), runs each for SECONDS
# (default 60) from its seed corpus (test/fuzz/corpus/<harness>, read only; new inputs go to
# build/fuzz/corpus/<harness>), and prints the cases run per harness. Exits non-zero when a
# harness finds a crash, a sanitizer report or a broken property; the input that did it is
# saved as build/fuzz/artifacts/<harness>-crash-*. Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]
# Needs no server: the harnesses call the pure code of src/core (and PostgreSQL's float
# formatting from libpgcommon.a, as the output functions print).
source "$(dirname "$0")/lib.sh"
cd "$RS_ROOT"

seconds=${1:-60}
shift || true
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for f in test/fuzz/*_fuzz.cpp; do harnesses+=("$(basename "$f" _fuzz.cpp)"); done
fi

CXX=${FUZZ_CXX:-clang++}
command -v "$CXX" >/dev/null || rs_die "$CXX not found (scripts/setup.sh installs clang and libclang-rt-14-dev)"
PG_LIB=$(pg_config --libdir 2>/dev/null || echo /usr/lib/postgresql/15/lib)
[ -f "$PG_LIB/libpgcommon.a" ] || PG_LIB=/usr/lib/postgresql/15/lib
out=build/fuzz
mkdir -p "$out/obj" "$out/artifacts"
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -Isrc)

# The core sources the harnesses use, compiled once with the sanitizers.
core=(src/core/type_input.cpp src/core/half.cpp src/core/distance.cpp src/core/interaction_rules.cpp)
objs=()
for src in "${core[@]}"; do
  obj=$out/obj/$(basename "$src" .cpp).o
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find src/core -name '*.h' -newer "$obj")" ]; then
    "$CXX" "${flags[@]}" -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done

status=0
total=0
summary=()
for h in "${harnesses[@]}"; do
  src=test/fuzz/${h}_fuzz.cpp
  [ -f "$src" ] || rs_die "no harness $src"
  bin=$out/$h
  rs_log "fuzz: building $h"
  "$CXX" "${flags[@]}" -fsanitize=fuzzer "$src" "${objs[@]}" "$PG_LIB/libpgcommon.a" "$PG_LIB/libpgport.a" -o "$bin"
  mkdir -p "$out/corpus/$h"
  dict=()
  [ -f "test/fuzz/$h.dict" ] && dict=(-dict="test/fuzz/$h.dict")
  rs_log "fuzz: running $h for ${seconds}s"
  log=$out/$h.log
  if "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
       -artifact_prefix="$out/artifacts/$h-" "${dict[@]}" "$out/corpus/$h" "test/fuzz/corpus/$h" \
       >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    summary+=("$h: ${runs:-?} cases, no findings")
    total=$((total + ${runs:-0}))
  else
    status=1
    summary+=("$h: FINDING (see $log and $out/artifacts/)")
    grep -E "property violated|ERROR: AddressSanitizer|runtime error|deadly signal" "$log" | head -5 >&2
  fi
done
for line in "${summary[@]}"; do rs_log "$line"; done
rs_log "fuzz: $total cases in total"
exit $status
