# ragstore demo helpers, sourced by the parts in scripts/demo.d/ (scripts/demo.sh exports
# RAGSTORE_DEMO_LIB=<this file>, the PG* variables with PGDATABASE=ragstore_demo,
# RAGSTORE_ROOT and RAGSTORE_DATA_DIR).
#
#   demo_step "title"                  prints a step header and starts its timer
#   demo_done ["note"]                 prints the step's elapsed time
#   demo_psql [psql args]              psql quietly, stopping at the first error
#   demo_query "sql"                   runs a query and prints its result as an aligned table
#   load_fvecs TABLE FILE [LIMIT]      CREATE TABLE TABLE (id int PRIMARY KEY, embedding vector(d))
#                                      and loads FILE (fvecs) with binary COPY, ids 0.. (the
#                                      ground truth's ids); exact float32 bits, no decimal round trip
#   load_ivecs TABLE FILE [LIMIT]      CREATE TABLE TABLE (id int PRIMARY KEY, neighbors int[])
#   demo_fail "message"                prints the message and exits 1
set -euo pipefail

_demo_t0=0
_demo_part=$(basename "${BASH_SOURCE[1]:-demo}" .sh)

demo_now_ms() { date +%s%3N; }

demo_step() {
  _demo_t0=$(demo_now_ms)
  printf '\n=== %s: %s\n' "$_demo_part" "$*"
}

demo_done() {
  local ms=$(( $(demo_now_ms) - _demo_t0 ))
  printf -- '--- done in %d.%03d s%s\n' $((ms / 1000)) $((ms % 1000)) "${1:+ ($1)}"
}

demo_fail() {
  printf '!!! %s: %s\n' "$_demo_part" "$*" >&2
  exit 1
}

demo_psql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

demo_query() { psql -X -q -v ON_ERROR_STOP=1 -P footer=off -c "$1"; }

load_fvecs() {
  local table=$1 file=$2 limit=${3:-}
  [ -r "$file" ] || demo_fail "cannot read $file"
  local dim
  dim=$(perl -e 'open F, "<:raw", $ARGV[0] or die; read F, my $h, 4; print unpack("l<", $h)' "$file")
  demo_psql -c "DROP TABLE IF EXISTS $table" \
            -c "CREATE TABLE $table (id int PRIMARY KEY, embedding vector($dim) NOT NULL)"
  perl "$RAGSTORE_ROOT/scripts/vecfile.pl" fvecs-copy "$file" $limit \
    | demo_psql -c "\\copy $table (id, embedding) FROM pstdin WITH (FORMAT binary)"
  demo_psql -c "ANALYZE $table"
}

load_ivecs() {
  local table=$1 file=$2 limit=${3:-}
  [ -r "$file" ] || demo_fail "cannot read $file"
  demo_psql -c "DROP TABLE IF EXISTS $table" \
            -c "CREATE TABLE $table (id int PRIMARY KEY, neighbors int[] NOT NULL)"
  perl "$RAGSTORE_ROOT/scripts/vecfile.pl" ivecs-copy "$file" $limit \
    | demo_psql -c "\\copy $table (id, neighbors) FROM pstdin"
}
