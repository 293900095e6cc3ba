#!/usr/bin/env bash
# Demo part: ivfflat indexes on the same data sets as 20_hnsw.sh, on copies of the tables
# (<base>_ivf) so that each index type answers its own queries; lists = sqrt(rows). For each:
# build time and index size, then recall@10 against the shipped ground truth and the
# server-side p50 / p95 time per query at ivfflat.probes 1, 4 and 10, next to exact search's
# time from 20_hnsw.sh, with the plan the planner picks at each setting. The indexes stay.
source "$RAGSTORE_DEMO_LIB"

ivfflat_part() {
  local name=$1 base=$2 query=$3 truth=$4 op=$5 nq=$6 label="${*:7}"
  local nq_idx ivf rows lists ex_p50 build size
  nq_idx=$(( nq < 200 ? nq : 200 ))
  ivf=${base}_ivf
  # ada002's queries are its own rows: the original table's rows query the copy.
  demo_psql -c "DROP TABLE IF EXISTS $ivf" -c "CREATE TABLE $ivf AS SELECT * FROM $base" -c "ANALYZE $ivf"
  rows=$(psql -X -At -c "SELECT count(*) FROM $ivf")
  lists=$(awk -v n="$rows" 'BEGIN { printf "%d", sqrt(n) + 0.5 }')

  demo_step "$label: ivfflat (embedding $(demo_opclass "$op")), lists $lists"
  demo_knn_make "ivf_$name" "$ivf" "$query" "$op"
  ex_p50=$(psql -X -At -c "SELECT substring(note FROM 'exact: p50 ([0-9.]+) ms') FROM demo_summary WHERE what = 'hnsw' AND data = '$label'")
  read -r build size <<< "$(demo_build_index "${ivf}_idx" "CREATE INDEX ${ivf}_idx ON $ivf USING ivfflat (embedding $(demo_opclass "$op")) WITH (lists = $lists)")"
  echo "built in $build s, index size $size ($rows rows)"
  EXACT_RECALL="" EXACT_P95="" demo_index_sweep "ivf_$name" "$truth" "$nq_idx" "$ivf" "${ivf}_idx" "$op" "$query" ivfflat.probes "1 4 10" "$ex_p50"
  echo "($nq_idx queries per line; exact: p50 from the hnsw part; time per query measured inside the server, warm cache)"
  demo_summary_add "ivfflat" "$label" "$build s" "$size" "lists $lists, probes 1 / 4 / 10" "$SWEEP_RECALLS" "$SWEEP_P50S" ""
  demo_done
}

demo_each_dataset ivfflat_part
