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
#   demo_dataset NAME                  prints "BASE QUERY TRUTH OP NQ LABEL" of a data set that
#                                      10_vectors.sh (or a later part) registered in demo_datasets
#   demo_each_dataset FUNCTION         calls FUNCTION NAME BASE QUERY TRUTH OP NQ LABEL for each
#                                      registered data set among sift, mnist, ada (in that order)
#   demo_opclass OP                    the vector operator class of a distance operator
#   demo_knn_make FN BASE QUERY OP [FILTER]
#                                      creates two SQL functions FN(nq) and FN_exact(nq): for the
#                                      first nq queries (by id) of QUERY, the 10 nearest ids of
#                                      BASE by OP and the query's time in ms (clock_timestamp
#                                      around the statement, in the server: no client round trip).
#                                      FN orders by the operator (an index can serve it), FN_exact
#                                      by an expression of it (no index can: a sequential scan)
#   demo_knn_eval FN TRUTH NQ ["SET ...; SET ..."]
#                                      runs FN on 20 queries to warm up, then on NQ timed, after
#                                      the SETs;
#                                      prints "recall@10 p50_ms p95_ms rows_per_query";
#                                      recall counts returned ids in TRUTH's first 10 (for an ids
#                                      table, a neighbors int[] per query id)
#   demo_index_sweep FN TRUTH NQ TABLE INDEX OP QUERY GUC "V1 V2 V3" EXACT_P50 [FILTER]
#                                      one line per value of GUC: recall@10, p50, p95, rows
#                                      returned per query (of 10; FN's WHERE is FILTER) and the
#                                      speed-up over EXACT_P50, with the plan the planner picks for
#                                      ORDER BY embedding OP q LIMIT 10 at that value; when it
#                                      picks a sequential scan, the line says so and measures the
#                                      index with enable_seqscan = off. Sets SWEEP_RECALLS and
#                                      SWEEP_P50S ("a / b / c") and SWEEP_LAST_RECALL. SWEEP_SET:
#                                      more SET statements for every line; SWEEP_PREFIX: a label
#   demo_build_index INDEX "CREATE INDEX ..."
#                                      runs it and prints "seconds size" (wall clock, pg_size_pretty)
#   demo_summary_add WHAT DATA BUILD SIZE SETTING RECALL P50 [NOTE]
#                                      a row of the closing "what just happened" table
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

demo_dataset() {
  psql -X -At -F ' ' -v ON_ERROR_STOP=1 -c "SELECT base, query, truth, op, nq, label FROM demo_datasets WHERE name = '$1'"
}

demo_each_dataset() {
  local name line
  for name in sift mnist ada; do
    line=$(demo_dataset "$name")
    [ -n "$line" ] || continue
    # shellcheck disable=SC2086
    "$1" "$name" $line
  done
}

demo_opclass() {
  case $1 in
    '<->') echo vector_l2_ops ;;
    '<=>') echo vector_cosine_ops ;;
    '<#>') echo vector_ip_ops ;;
    '<+>') echo vector_l1_ops ;;
    *) demo_fail "no operator class for $1" ;;
  esac
}

demo_knn_make() {
  local fn=$1 base=$2 query=$3 op=$4 filter=${5:-true}
  local body
  for kind in index exact; do
    local name=$fn order="b.embedding $op r.embedding"
    if [ $kind = exact ]; then name=${fn}_exact order="(b.embedding $op r.embedding) + 0"; fi
    demo_psql -c "CREATE OR REPLACE FUNCTION $name(nq int) RETURNS TABLE (qid int, ids int[], ms double precision)
LANGUAGE plpgsql AS \$\$
DECLARE r record; t0 timestamptz;
BEGIN
  FOR r IN SELECT q.id, q.embedding FROM $query q ORDER BY q.id LIMIT nq LOOP
    t0 := clock_timestamp();
    ids := ARRAY(SELECT b.id FROM $base b WHERE $filter ORDER BY $order LIMIT 10);
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    qid := r.id;
    RETURN NEXT;
  END LOOP;
END \$\$"
  done
}

demo_knn_eval() {
  local fn=$1 truth=$2 nq=$3 set=${4:-}
  [ -n "$set" ] && set="$set;"
  psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -c "$set SELECT count(*) FROM $fn(least($nq, 20))" \
    -c "CREATE TEMP TABLE demo_pass AS SELECT * FROM $fn($nq)" \
    -c "SELECT to_char(avg((SELECT count(*) FROM unnest(p.ids) x WHERE x = ANY (t.neighbors[1:10]))) / 10, 'FM0.000'),
               to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY p.ms), 'FM990.000'),
               to_char(percentile_cont(0.95) WITHIN GROUP (ORDER BY p.ms), 'FM990.000'),
               to_char(avg(cardinality(p.ids)), 'FM990.0')
          FROM demo_pass p JOIN $truth t ON t.id = p.qid" | tail -1
}

demo_build_index() {
  local index=$1 sql=$2 t0 ms
  t0=$(demo_now_ms)
  demo_psql -c "DROP INDEX IF EXISTS $index" -c "$sql"
  ms=$(( $(demo_now_ms) - t0 ))
  printf '%d.%02d %s\n' $((ms / 1000)) $((ms % 1000 / 10)) \
    "$(psql -X -At -c "SELECT replace(pg_size_pretty(pg_relation_size('$index')), ' ', '')")"
}

demo_summary_add() {
  psql -X -q -v ON_ERROR_STOP=1 \
    -v what="$1" -v data="$2" -v build="$3" -v size="$4" -v setting="$5" -v recall="$6" -v p50="$7" -v note="${8:-}" <<'SQL'
INSERT INTO demo_summary (what, data, build, size, setting, recall, p50_ms, note)
VALUES (:'what', :'data', :'build', :'size', :'setting', :'recall', :'p50', :'note');
SQL
}

demo_index_sweep() {
  local fn=$1 truth=$2 nq=$3 table=$4 index=$5 op=$6 query=$7 guc=$8 values=$9 exact_p50=${10:-} filter=${11:-true}
  local v plan force r p50 p95 n rows note
  local explain="EXPLAIN (COSTS OFF) SELECT b.id FROM $table b WHERE $filter ORDER BY b.embedding $op (SELECT embedding FROM $query ORDER BY id LIMIT 1) LIMIT 10"
  printf '\n%-28s | %9s | %4s | %8s | %8s | %-9s | %s\n' "search" "recall@10" "rows" "p50 ms" "p95 ms" "vs exact" "plan"
  printf -- '-----------------------------+-----------+------+----------+----------+-----------+---------------------------------\n'
  [ -n "$exact_p50" ] && printf '%-28s | %9s | %4s | %8s | %8s | %-9s | %s\n' "exact" "${EXACT_RECALL:-}" "" "$exact_p50" "${EXACT_P95:-}" "" "sequential scan"
  SWEEP_RECALLS="" SWEEP_P50S="" SWEEP_LAST_RECALL=""
  for v in $values; do
    force="" note="index scan"
    plan=$(psql -X -q -At -c "${SWEEP_SET:-SELECT 1}" -c "SET $guc = $v" -c "$explain")
    if ! grep -q "Index Scan using $index" <<< "$plan"; then
      # The planner's own choice at this setting is shown, not overridden silently.
      rows=$(psql -X -At -c "SELECT count(*) FROM $table")
      force="SET enable_seqscan = off; " note="planner: seq scan ($rows rows); forced index"
      plan=$(psql -X -q -At -c "${SWEEP_SET:-SELECT 1}" -c "SET $guc = $v" -c "$force" -c "$explain")
      grep -q "Index Scan using $index" <<< "$plan" || { echo "$plan"; demo_fail "$index is not used even with enable_seqscan = off"; }
    fi
    read -r r p50 p95 n <<< "$(demo_knn_eval "$fn" "$truth" "$nq" "${SWEEP_SET:+$SWEEP_SET; }${force}SET $guc = $v")"
    printf '%-28s | %9s | %4s | %8s | %8s | %-9s | %s\n' "${SWEEP_PREFIX:-}${guc#*.} $v" "$r" "$n" "$p50" "$p95" \
      "$([ -n "$exact_p50" ] && awk -v e="$exact_p50" -v p="$p50" 'BEGIN { if (p > 0) printf "%.1fx", e / p }')" "$note"
    SWEEP_RECALLS+="${SWEEP_RECALLS:+ / }$r" SWEEP_P50S+="${SWEEP_P50S:+ / }$p50" SWEEP_LAST_RECALL=$r
  done
}
