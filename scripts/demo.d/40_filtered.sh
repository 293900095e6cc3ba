#!/usr/bin/env bash
# Demo part: a filtered nearest-neighbour query, WHERE id % 10 = 3 (keeps 10% of the rows),
# ORDER BY embedding <-> q LIMIT 10, on sift5k (or its generated stand-in) with the hnsw index
# of 20_hnsw.sh and the ivfflat index of 30_ivfflat.sh. An index scan without an iterative scan
# stops after its candidate list (ef_search / probes) and the filter leaves fewer than 10 rows;
# hnsw.iterative_scan / ivfflat.iterative_scan keep it going. Shows rows returned per query,
# recall@10 against the exact filtered answer and the time per query, as the installed build
# does it (no threshold: this part reports).
source "$RAGSTORE_DEMO_LIB"

line=$(demo_dataset sift)
[ -n "$line" ] || demo_fail "no data set 'sift' (10_vectors.sh loads it)"
read -r base query truth op nq label <<< "$line"
filter="b.id % 10 = 3"

demo_step "$label: WHERE id % 10 = 3 ORDER BY embedding $op q LIMIT 10, exact answer"
demo_knn_make "knnf_sift" "$base" "$query" "$op" "$filter"
demo_knn_make "ivff_sift" "${base}_ivf" "$query" "$op" "$filter"
demo_psql -c "DROP TABLE IF EXISTS sift_truth_filtered" \
          -c "CREATE TABLE sift_truth_filtered AS SELECT qid AS id, ids AS neighbors FROM knnf_sift_exact($nq)"
read -r EXACT_RECALL ex_p50 EXACT_P95 _ <<< "$(demo_knn_eval knnf_sift_exact sift_truth_filtered "$nq")"
echo "the exact filtered top 10 of $nq queries is the ground truth below (p50 $ex_p50 ms, sequential scan)"
echo "the hnsw plan: $(psql -X -At -c "EXPLAIN (COSTS OFF) SELECT b.id FROM $base b WHERE $filter ORDER BY b.embedding $op (SELECT embedding FROM $query ORDER BY id LIMIT 1) LIMIT 10" | grep -E 'Scan|Filter' | sed 's/^ *//; s/->  //' | paste -sd ';' | sed 's/;/; /g')"
demo_done

demo_step "$label, filtered, hnsw (ef_search 40): hnsw.iterative_scan off / relaxed_order / strict_order"
demo_index_sweep knnf_sift sift_truth_filtered "$nq" "$base" "${base}_hnsw" "$op" "$query" \
  hnsw.iterative_scan "off relaxed_order strict_order" "$ex_p50" "$filter"
demo_summary_add "hnsw, filtered (10% of rows)" "$label" "" "" "iterative_scan off / relaxed / strict" "$SWEEP_RECALLS" "$SWEEP_P50S" "rows per query: see above"
demo_done

demo_step "$label, filtered, ivfflat (probes 1): ivfflat.iterative_scan off / relaxed_order"
SWEEP_SET="SET ivfflat.probes = 1" demo_index_sweep ivff_sift sift_truth_filtered "$nq" "${base}_ivf" "${base}_ivf_idx" "$op" "$query" \
  ivfflat.iterative_scan "off relaxed_order" "$ex_p50" "$filter"
demo_summary_add "ivfflat, filtered (10% of rows)" "$label" "" "" "probes 1, iterative_scan off / relaxed" "$SWEEP_RECALLS" "$SWEEP_P50S" ""
demo_done
