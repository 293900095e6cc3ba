#!/usr/bin/env bash
# Builds a debugging PostgreSQL 15 from Debian's source package of the installed server version,
# once per version and variant (later runs reuse it), and prints its install prefix.
#   debug-server.sh debug   --enable-cassert --enable-debug, CPPFLAGS=-DUSE_VALGRIND: assertions,
#                           freed memory clobbered, memory contexts checked; under valgrind
#                           (scripts/test.sh valgrind) palloc'd chunks are tracked one by one
#   debug-server.sh asan    the same (no USE_VALGRIND) with the server executable built with
#                           AddressSanitizer + UndefinedBehaviorSanitizer (gcc); an extension
#                           built with its pg_config gets the same -fsanitize flags (PGXS takes
#                           configure's CXXFLAGS/LDFLAGS), so nothing is preloaded
# Where: $RAGSTORE_DEBUG_PG_CACHE (default /var/cache/ragstore-pg, or ~/.cache/ragstore-pg when
# that is not writable) / postgresql-<version>-<variant>. Needs root the first time (deb-src line,
# apt-get source, build packages). Only src/ and config/ are built (no docs, no contrib), -j2.
source "$(dirname "$0")/lib.sh"

variant=${1:-}
case "$variant" in debug|asan) ;; *) rs_die "usage: $0 debug|asan" ;; esac

installed=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null) \
  || rs_die "postgresql-15 is not installed (scripts/setup.sh installs it)"
cache=${RAGSTORE_DEBUG_PG_CACHE:-/var/cache/ragstore-pg}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache=${XDG_CACHE_HOME:-$HOME/.cache}/ragstore-pg; fi
mkdir -p "$cache"
# The asan build reuses the debug build's programs.
if [ "$variant" = asan ]; then debug_prefix=$(bash "$0" debug); fi
# The source built: the installed version's when it can be fetched, else (the mirror here serves
# no sources for the security archive) the newest 15.x source it serves: the same major version,
# so the same catalog, on-disk format and extension ABI. Remembered per installed version.
version_file=$cache/source-for-$installed
version=$(cat "$version_file" 2>/dev/null || echo "$installed")
case "$variant" in
  debug)
    cppflags="-DUSE_VALGRIND"
    cflags="-O2 -g -fno-omit-frame-pointer"
    cxxflags=$cflags
    ldflags=""
    ;;
  asan)
    # Only the server executable is built with the sanitizers; the client programs, libpq, the
    # server's own modules and the TAP modules are the debug build's (built first). The server at
    # -O0 (it compiles about twice as fast; the tests' time goes to ragstore), the extension
    # (CXXFLAGS, which PGXS uses) at -O2, both with line tables (-g1) for stack traces.
    # -fno-sanitize=alignment: PostgreSQL reads unaligned words on purpose (CRC-32C, hashing,
    # varlena headers), as its own sanitizer CI does. vptr: FAISS is not instrumented and its
    # classes' type info is hidden inside ragstore.so (--exclude-libs), which the check cannot
    # see across. Reports are printed and the run goes on (recoverable); scripts/test.sh fails
    # the run on any report in the server logs.
    san="-fsanitize=address,undefined -fno-sanitize=alignment,vptr"
    cppflags=""
    cflags="-O0 -g1 -fno-omit-frame-pointer $san"
    cxxflags="-O2 -g1 -fno-omit-frame-pointer $san"
    ldflags="$san"
    ;;
esac
# The prefix contains "postgresql", so PostgreSQL installs into lib/ and share/ directly.
prefix=$cache/postgresql-$version-$variant
flags_id=$(printf '%s|' "$version" "$cppflags" "$cflags" "$cxxflags" "$ldflags" | md5sum | cut -c1-12)

if [ -f "$prefix/.complete" ] && [ "$(cat "$prefix/.complete")" = "$flags_id" ]; then
  echo "$prefix"
  exit 0
fi
# One build at a time per cache (several checkouts may ask at once); the others wait and reuse it.
exec 9>"$cache/.lock"
flock 9
if [ -f "$prefix/.complete" ] && [ "$(cat "$prefix/.complete")" = "$flags_id" ]; then
  echo "$prefix"
  exit 0
fi

# --- source: Debian's package of exactly the installed version ---------------------------------
src=$cache/src-$version
if [ ! -f "$src/.complete" ]; then
  [ "$(id -u)" = 0 ] || rs_die "the first build needs root (deb-src line, apt-get source, packages)"
  export DEBIAN_FRONTEND=noninteractive
  # deb-src entries for the archives that offer postgresql-15: a copy of each configured deb
  # entry (deb822 stanza or one-line) for those URIs, with the same options (Signed-By etc.).
  uris=$(apt-cache madison postgresql-15 | awk -F' [|] ' '$3 ~ /Packages$/ { split($3, a, " "); sub(/\/$/, "", a[1]); print a[1] }' | sort -u)
  [ -n "$uris" ] || rs_die "no archive offers postgresql-15 (apt-cache madison)"
  out=/etc/apt/sources.list.d/ragstore-pg-src.sources
  : > "$out.new"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && [ "$f" != "$out" ] || continue
    awk -v uris="$uris" 'BEGIN { n = split(uris, u, "\n"); for (i = 1; i <= n; i++) want[u[i]] = 1; RS = ""; FS = "\n" }
      { types = ""; hit = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types = $i
          if ($i ~ /^URIs:/) { m = split(substr($i, 6), x, " "); for (j = 1; j <= m; j++) { sub(/\/$/, "", x[j]); if (x[j] in want) hit = 1 } }
        }
        if (hit && types ~ /[ \t]deb([ \t]|$)/ && types !~ /deb-src/) {
          for (i = 1; i <= NF; i++) print ($i ~ /^Types:/ ? "Types: deb-src" : $i)
          print ""
        } }' "$f" >> "$out.new"
  done
  # One-line entries are kept one-line, in a file of their own.
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    for u in $uris; do
      awk -v u="$u" '$1 == "deb" { for (i = 2; i <= NF; i++) { x = $i; sub(/\/$/, "", x); if (x == u) { $1 = "deb-src"; print; break } } }' "$f"
    done
  done | sort -u > "${out%.sources}.list.new"
  changed=0
  for g in "$out" "${out%.sources}.list"; do
    if [ -s "$g.new" ]; then cmp -s "$g.new" "$g" 2>/dev/null || { mv "$g.new" "$g"; changed=1; }; else rm -f "$g.new" "$g"; fi
  done
  if [ $changed = 1 ]; then apt-get update -qq; fi
  apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
  fetched=
  for v in $( (echo "$installed"; apt-cache showsrc postgresql-15 | sed -n 's/^Version: //p' | sort -rV) | awk '!seen[$0]++'); do
    rm -rf "$cache/get"; mkdir -p "$cache/get"
    rs_log "fetching the source of postgresql-15 $v (installed: $installed)"
    if ( cd "$cache/get" && apt-get source -qq "postgresql-15=$v" >/dev/null 2>&1 ); then fetched=$v; break; fi
  done
  [ -n "$fetched" ] || rs_die "apt-get source postgresql-15 failed for every version the archives list"
  version=$fetched
  src=$cache/src-$version
  rm -rf "$src"; mv "$cache/get"/postgresql-15-*/ "$src"; rm -rf "$cache/get"
  touch "$src/.complete"
  echo "$version" > "$version_file"
  prefix=$cache/postgresql-$version-$variant
  flags_id=$(printf '%s|' "$version" "$cppflags" "$cflags" "$cxxflags" "$ldflags" | md5sum | cut -c1-12)
  if [ -f "$prefix/.complete" ] && [ "$(cat "$prefix/.complete")" = "$flags_id" ]; then
    echo "$prefix"
    exit 0
  fi
fi

# Build packages: the minimal set for this configuration (no ICU, no readline, no docs).
need=(build-essential bison flex zlib1g-dev libipc-run-perl)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || rs_die "missing packages (run as root): ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- build -----------------------------------------------------------------------------------------
build=$cache/build-$version-$variant
rm -rf "$build" "$prefix"; mkdir -p "$build"
rs_log "building PostgreSQL $version ($variant) in $build (log: $build/build.log)"
start=$(date +%s)
# The sanitizers' leak check would fail configure's test programs and zic at install.
export ASAN_OPTIONS=detect_leaks=0
# errexit is ignored inside a subshell that is the left side of `||`: run it on its own, with
# errexit, and test its status afterwards.
set +e
(
  set -e
  # Called from `make test`, MAKELEVEL is already 1: PostgreSQL's makefiles then skip generating
  # the backend's headers (errcodes.h, ...), which they do only at the top level.
  unset MAKELEVEL MAKEFLAGS MFLAGS
  cd "$build"
  "$src/configure" --prefix="$prefix" --enable-cassert --enable-debug --enable-tap-tests \
      --without-icu --without-readline --with-system-tzdata=/usr/share/zoneinfo \
      CPPFLAGS="$cppflags" CFLAGS="$cflags" CXXFLAGS="$cxxflags" LDFLAGS="$ldflags"
  if [ "$variant" = asan ]; then
    # The backend links src/port's and src/common's server libraries; from src/backend alone,
    # make -j2 reaches the link before its order-only step has built them: build them first.
    make -j2 -C src/port all
    make -j2 -C src/common all
    make -j2 -C src/backend all
    cp -a "$debug_prefix" "$prefix"
    rm -f "$prefix/.complete"
    make -C src/backend install
    make -C src/makefiles install
    make -C src install-local   # PGXS's Makefile.global: the extension gets the sanitizer flags
    exit 0
  fi
  # The server, libpq, the client programs, pg_regress, the TAP modules and PGXS (src/ and
  # config/: no docs, no contrib).
  make -j2 -C src all
  make -C src install
  make -C config install
  # PostgreSQL's valgrind suppressions (scripts/test.sh valgrind)
  cp "$src/src/tools/valgrind.supp" "$prefix/valgrind.supp"
) > "$build/build.log" 2>&1
build_status=$?
set -e
[ $build_status -eq 0 ] || { tail -30 "$build/build.log" >&2; rs_die "PostgreSQL build failed ($build/build.log)"; }
rm -rf "$build/src" "$build/config"
rs_log "built PostgreSQL $version ($variant) in $(( $(date +%s) - start )) s"
echo "$flags_id" > "$prefix/.complete"
echo "$prefix"
