#!/usr/bin/env bash
# pgbench load tests of the scale-out cluster (bench/cluster): throughput and latency
# percentiles per script, direct against through PgBouncer, primary against replica, and the
# replication lag sampled while the write load runs. See README, "Scaling out".
#
#   bench/pgbench/run.sh [options]
#     --rows N          rows of SYNTHETIC data in bench_items (default 100000; Gaussian mixture
#                       of gen_mixture.pl, 128 dimensions); reloaded when the count differs
#     --dim D           dimensions (default 128)
#     --duration S      seconds per pgbench run (default 15)
#     --clients C       pgbench clients (default 8), --jobs J threads (default 2)
#     --mode M          pgbench query mode through every target: simple or extended (default
#                       extended; never prepared: PgBouncer 1.18 in transaction mode has no
#                       prepared statements)
#     --scripts LIST    comma list of knn,log,cache,rag (default: all whose SQL functions exist)
#     --ef-search E     hnsw.ef_search for the searches (default 40)
#     --reindex         rebuild the hnsw index (and measure its WAL and the replicas' lag)
#     --out DIR         where the pgbench logs and results.md go (default <dir>/bench-<time>)
#     --dir D           the cluster directory of bench/cluster (default <checkout>/.cluster-scale)
# The cluster is started with `bench/cluster start` (idempotent) first; its port, replica count
# and PgBouncer port come from there (bench/cluster start --replicas N ... to change them).
# Latency percentiles are computed from pgbench's per-transaction log (--log), in milliseconds.
source "$(dirname "$0")/../../scripts/lib.sh"
HERE=$RS_ROOT/bench/pgbench

rows=100000 dim=128 duration=15 clients=8 jobs=2 mode=extended scripts="" ef_search=40
reindex=0 out="" sc_dir=${RAGSTORE_SCALE_DIR:-$RS_ROOT/.cluster-scale}
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows=$2; shift 2 ;;
    --dim) dim=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --scripts) scripts=$2; shift 2 ;;
    --ef-search) ef_search=$2; shift 2 ;;
    --reindex) reindex=1; shift ;;
    --out) out=$2; shift 2 ;;
    --dir) sc_dir=$2; shift 2 ;;
    *) rs_die "unknown option: $1 (see the comment at the top of $0)" ;;
  esac
done
case "$mode" in simple|extended) ;; *) rs_die "--mode must be simple or extended" ;; esac

export RAGSTORE_SCALE_DIR=$sc_dir
"$RS_ROOT/bench/cluster" start --dir "$sc_dir"
# shellcheck disable=SC1091
source "$sc_dir/cluster.env"   # REPLICAS PORT BPORT POOL
out=${out:-$sc_dir/bench-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$out"
# SET LOCAL takes no bind parameter (pgbench -M extended turns :variables into parameters),
# so ef_search is written into the copies of the scripts.
for f in "$HERE"/*.sql; do
  sed "s/SET LOCAL hnsw.ef_search = [0-9]*/SET LOCAL hnsw.ef_search = $ef_search/" "$f" > "$out/$(basename "$f")"
done

q() {  # port db sql...: one value, unaligned
  local port=$1 db=$2; shift 2
  rs_as_pg "$RS_PG_BIN/psql" -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$RS_PG_USER" -d "$db" "$@"
}
qp() { q "$PORT" ragstore "$@"; }

have_fn() { [ "$(qp -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                         WHERE n.nspname = 'ragstore' AND p.proname = '$1'")" != 0 ]; }
have_am() { [ "$(qp -c "SELECT count(*) FROM pg_am WHERE amname = '$1'")" != 0 ]; }

# ---------------------------------------------------------------- data
nqueries=1000
have_rows=-1 have_dim=0
if [ "$(qp -c "SELECT to_regclass('bench_items') IS NOT NULL AND to_regclass('bench_queries') IS NOT NULL")" = t ]; then
  have_rows=$(qp -c "SELECT count(*) FROM bench_items")
  have_dim=$(qp -c "SELECT coalesce((SELECT vector_dims(embedding) FROM bench_items LIMIT 1), 0)")
fi
if [ "$have_rows" != "$rows" ] || [ "$have_dim" != "$dim" ]; then
  rs_log "loading $rows SYNTHETIC rows x $dim dims (Gaussian mixture, gen_mixture.pl) and $nqueries queries"
  qp -c "DROP TABLE IF EXISTS bench_items, bench_queries" \
     -c "CREATE TABLE bench_items (id bigint PRIMARY KEY, embedding vector($dim) NOT NULL)" \
     -c "CREATE TABLE bench_queries (qid int PRIMARY KEY, embedding vector($dim) NOT NULL)"
  perl "$HERE/gen_mixture.pl" --rows "$rows" --dim "$dim" --seed 2 \
    | qp -c "COPY bench_items (id, embedding) FROM STDIN"
  perl "$HERE/gen_mixture.pl" --rows "$nqueries" --dim "$dim" --seed 3 --centres "$(( rows >= 200 ? rows / 100 : 2 ))" \
    | qp -c "COPY bench_queries (qid, embedding) FROM STDIN"
  qp -c "VACUUM ANALYZE bench_items" -c "VACUUM ANALYZE bench_queries"
  reindex=1
fi
# prompts for the cache and RAG scripts (zipfian keys 1..nkeys)
nkeys=10000
if [ "$(qp -c "SELECT to_regclass('bench_prompts') IS NOT NULL")" != t ] \
   || [ "$(qp -c "SELECT count(*) FROM bench_prompts")" != "$nkeys" ] \
   || [ "$(qp -c "SELECT vector_dims(embedding) FROM bench_prompts LIMIT 1")" != "$dim" ]; then
  qp -c "DROP TABLE IF EXISTS bench_prompts" \
     -c "CREATE TABLE bench_prompts (pid int PRIMARY KEY, embedding vector($dim) NOT NULL)"
  perl "$HERE/gen_mixture.pl" --rows "$nkeys" --dim "$dim" --seed 4 --centres "$(( rows >= 200 ? rows / 100 : 2 ))" \
    | qp -c "COPY bench_prompts (pid, embedding) FROM STDIN"
  qp -c "VACUUM ANALYZE bench_prompts"
fi

# ---------------------------------------------------------------- lag sampler
# Samples every 0.5 s, on the primary, each replica's replay position behind the primary's
# current WAL (bytes) and pg_stat_replication's write_lag / replay_lag (seconds), and on each
# replica now() - pg_last_xact_replay_timestamp() (seconds since the last replayed commit).
sampler_pid=""
start_sampler() {  # file
  local f=$1
  (
    while :; do
      q "$PORT" postgres -F ' ' -c "SELECT extract(epoch FROM clock_timestamp()), application_name,
             pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn),
             coalesce(extract(epoch FROM write_lag), 0), coalesce(extract(epoch FROM replay_lag), 0)
           FROM pg_stat_replication" 2>/dev/null || true
      sleep 0.5
    done
  ) > "$f" &
  sampler_pid=$!
}
stop_sampler() { [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""; }
trap stop_sampler EXIT
lag_summary() {  # file -> "max_bytes avg_bytes max_replay_lag_s max_write_lag_s samples"
  awk '{ n++; b += $3; if ($3 > mb) mb = $3; if ($5 > mr) mr = $5; if ($4 > mw) mw = $4 }
       END { if (n == 0) print "- - - - 0"; else printf "%d %d %.3f %.3f %d\n", mb, b / n, mr, mw, n }' "$1"
}
wait_replicas() {  # -> seconds until every replica replayed the primary's current LSN
  local lsn t0 n; lsn=$(qp -c "SELECT pg_current_wal_lsn()"); t0=$(date +%s.%N)
  while :; do
    n=$(qp -c "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= '$lsn'")
    [ "$n" -ge "$REPLICAS" ] && break
    sleep 0.1
  done
  awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }'
}

# ---------------------------------------------------------------- index
index_note=""
if have_am hnsw; then
  if [ "$reindex" = 1 ] || [ "$(qp -c "SELECT count(*) FROM pg_indexes WHERE indexname = 'bench_items_hnsw'")" = 0 ]; then
    rs_log "building the hnsw index (m=16, ef_construction=64) while sampling the replicas' lag"
    qp -c "DROP INDEX IF EXISTS bench_items_hnsw" -c "CHECKPOINT"
    lsn0=$(qp -c "SELECT pg_current_wal_lsn()")
    start_sampler "$out/lag-index-build.txt"
    t0=$(date +%s.%N)
    qp -c "CREATE INDEX bench_items_hnsw ON bench_items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)"
    t1=$(date +%s.%N)
    wal=$(qp -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')")
    catchup=$(wait_replicas)
    stop_sampler
    size=$(qp -c "SELECT pg_relation_size('bench_items_hnsw')")
    read -r mb ab mr mw ns < <(lag_summary "$out/lag-index-build.txt")
    index_note=$(printf 'hnsw build over %s rows: %.1f s, index %s MB, WAL %s MB; replicas caught up %.2f s after the build ended; max lag while building %s MB (replay_lag max %s s, %s samples)' \
      "$rows" "$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')" "$((size / 1048576))" "$((wal / 1048576))" "$catchup" "$((mb / 1048576))" "$mr" "$ns")
    rs_log "$index_note"
  fi
else
  index_note="hnsw is not available in this build: the kNN script runs an EXACT search (sequential scan)"
  rs_log "$index_note"
fi

# ---------------------------------------------------------------- scripts
avail=()
avail+=(knn)
have_fn log_interaction && avail+=(log)
have_fn cache_lookup && avail+=(cache)
have_fn cache_lookup && have_fn cache_store && have_fn log_interaction && avail+=(rag)
[ -n "$scripts" ] || scripts=$(IFS=,; echo "${avail[*]}")

pct() {  # pgbench log files... -> "n p50 p95 p99" (ms) over the per-transaction latencies
  cat "$@" | awk '{ print $3 }' | sort -n | awk '{ a[NR] = $1 } END {
    if (NR == 0) { print "0 - - -"; exit }
    i50 = int(NR * 0.50); if (i50 < 1) i50 = 1; i95 = int(NR * 0.95); if (i95 < 1) i95 = 1
    i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
    printf "%d %.2f %.2f %.2f\n", NR, a[i50] / 1000, a[i95] / 1000, a[i99] / 1000 }'
}

results=$out/results.md
{
  echo "# ragstore pgbench results ($(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "SYNTHETIC data: $rows x $dim Gaussian mixture (bench/pgbench/gen_mixture.pl). Machine: $(nproc) cores shared with other work (noisy)."
  echo "Cluster: primary + $REPLICAS streaming replicas, PgBouncer transaction pooling (${REPLICAS} processes on one port, default_pool_size $POOL)."
  echo "pgbench: $clients clients, $jobs threads, -M $mode, $duration s per run, hnsw.ef_search $ef_search."
  echo
  [ -n "$index_note" ] && { echo "$index_note"; echo; }
  echo "| script | target | tps | p50 ms | p95 ms | p99 ms | failed | lag max bytes | lag avg bytes | replay_lag max s |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
} > "$results"

run_one() {  # script target port db writes(0/1)
  local s=$1 target=$2 port=$3 db=$4 writes=$5 prefix="$out/$1-$2" tps failed n p50 p95 p99 lag="- - -"
  rs_log "pgbench $s against $target ($duration s)"
  [ "$writes" = 1 ] && start_sampler "$prefix.lag"
  rs_as_pg "$RS_PG_BIN/pgbench" -n -h 127.0.0.1 -p "$port" -U "$RS_PG_USER" -M "$mode" -c "$clients" -j "$jobs" \
      -T "$duration" -D nqueries="$nqueries" -D nkeys="$nkeys" \
      -f "$out/$s.sql" --log --log-prefix="$prefix" "$db" > "$prefix.out" 2>&1 || true
  if [ "$writes" = 1 ]; then stop_sampler; read -r mb ab mr mw ns < <(lag_summary "$prefix.lag"); lag="$mb $ab $mr"; fi
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$prefix.out" | head -1)
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$prefix.out")
  if [ -z "$tps" ]; then
    rs_log "pgbench failed against $target:"; tail -5 "$prefix.out" >&2; tps=error
  fi
  # shellcheck disable=SC2086
  read -r n p50 p95 p99 < <(pct "$prefix".[0-9]*)
  # shellcheck disable=SC2086
  set -- $lag
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$target" "${tps%.*}" "$p50" "$p95" "$p99" "${failed:-0}" "$1" "$2" "$3" >> "$results"
}

# The cache holds an entry for every even prompt before the cache and RAG runs (the RAG
# script adds the odd ones it misses), so lookups both hit and miss.
reset_cache() {
  qp -c "DELETE FROM ragstore.cache_entries WHERE model = 'gpt-4o-mini' AND prompt LIKE 'prompt %'" \
     -c "SELECT count(ragstore.cache_store(prompt => 'prompt ' || pid, embedding => embedding,
                 response => 'cached answer ' || pid, model => 'gpt-4o-mini'))
           FROM bench_prompts WHERE pid % 2 = 0" >/dev/null
  qp -c "VACUUM ANALYZE ragstore.cache_entries"
  wait_replicas >/dev/null
}
if [[ ",$scripts," =~ ,(cache|rag), ]]; then
  if have_am hnsw && have_fn cache_create_index; then qp -c "SELECT ragstore.cache_create_index($dim)" >/dev/null; fi
  reset_cache
fi

IFS=, read -r -a want <<< "$scripts"
for s in "${want[@]}"; do
  [ -f "$out/$s.sql" ] || rs_die "no script $s.sql"
  [ "$s" = rag ] && reset_cache
  case "$s" in
    knn|cache)   # reads: primary and replica, direct and through PgBouncer
      run_one "$s" primary-direct "$PORT" ragstore 0
      run_one "$s" primary-pgbouncer "$BPORT" ragstore_rw 0
      run_one "$s" replica1-direct "$((PORT + 1))" ragstore 0
      run_one "$s" replicas-pgbouncer "$BPORT" ragstore_ro 0
      ;;
    *)           # writes: the primary only; the replicas' lag is sampled meanwhile
      run_one "$s" primary-direct "$PORT" ragstore 1
      run_one "$s" primary-pgbouncer "$BPORT" ragstore_rw 1
      ;;
  esac
done

{
  echo
  echo "tps as pgbench reports it (without the initial connection time; one connection per client for the whole run)."
  echo "Latency percentiles from the per-transaction log (pgbench --log); lag sampled every 0.5 s on the primary"
  echo "(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) and pg_stat_replication.replay_lag) during write runs."
} >> "$results"
cat "$results"
rs_log "logs and results in $out"
