#!/usr/bin/env bash
# Checks (default) or applies (--fix) .clang-format on every C++ file the repository tracks.
# Exits 1 and lists the files that differ. Needs clang-format-14 (scripts/setup.sh installs it).
source "$(dirname "$0")/lib.sh"
cd "$RS_ROOT"
cf=$(command -v clang-format-14 || command -v clang-format) || rs_die "clang-format-14 is not installed"
mapfile -t files < <(git ls-files '*.cpp' '*.cc' '*.h')
if [ "${1:-}" = --fix ]; then
  "$cf" -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$cf" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  rs_log "not formatted (run: bash scripts/check-format.sh --fix): ${bad[*]}"
  exit 1
fi
rs_log "format: ${#files[@]} C++ files match .clang-format"
