#!/usr/bin/env bash
# Benchmarks of the interaction log and the semantic cache, on the throwaway cluster
# of scripts/cluster.sh (database ragstore_bench, replaced on every run).
#
#   bench/interactions/run.sh [log] [cache]        (default: both)
#   environment: DURATION (s per pgbench run, default 20), CLIENTS (8), ROUNDS (3),
#                CACHE_ROWS (100000), CACHE_DIM (1536), LOOKUPS (2000)
#
# log:   TPS of ragstore.log_interaction (bench/pgbench/log.sql: realistic models, tokens,
#        latencies, costs, 1% errors, zipfian users) against a plain INSERT of the same row
#        into an unpartitioned table without indexes, constraints or triggers, CLIENTS clients,
#        -M extended, alternating ROUNDS times (the machine is shared: the median of the
#        rounds is reported). Target: log_interaction >= 80% of the plain INSERT.
# cache: CACHE_ROWS entries of CACHE_DIM dimensions, SYNTHETIC (a deterministic Gaussian
#        mixture from bench/pgbench/gen_mixture.pl), then LOOKUPS ragstore.cache_lookup calls
#        of other points of the same mixture (1 client); latency p50/p95/p99 in ms from
#        pgbench's per-transaction log. Says whether the hnsw index was used (EXPLAIN).
#        Target: p99 < 5 ms at 100k x 1536.
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$RS_ROOT"
parts=("$@"); [ ${#parts[@]} -eq 0 ] && parts=(log cache)
DURATION=${DURATION:-20} CLIENTS=${CLIENTS:-8} ROUNDS=${ROUNDS:-3}
CACHE_ROWS=${CACHE_ROWS:-100000} CACHE_DIM=${CACHE_DIM:-1536} LOOKUPS=${LOOKUPS:-2000}
export PGDATABASE=ragstore_bench
work=$(mktemp -d /tmp/ragstore_bench_log.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

bash scripts/setup.sh
bash scripts/cluster.sh start
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS ragstore_bench WITH (FORCE)" \
     -c "CREATE DATABASE ragstore_bench"
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION ragstore" -c "SELECT count(*) FROM ragstore.create_partitions()" >/dev/null
echo "# ragstore interaction-log benchmarks ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores shared with other work: noisy)"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
tps_of() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$1" | head -1; }

if [[ " ${parts[*]} " == *" log "* ]]; then
  # the same row, as a plain INSERT: log.sql's SELECT ragstore.log_interaction(name => value,
  # ...) rewritten into INSERT INTO bench_plain (name, ...) VALUES (value, ...), with the
  # timestamps computed as log_interaction does
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE bench_plain (LIKE ragstore.interactions INCLUDING DEFAULTS)" \
       -c "ALTER TABLE bench_plain ALTER COLUMN id SET DEFAULT nextval('ragstore.interactions_id_seq')"
  cp bench/pgbench/log.sql "$work/log.sql"
  perl -0pe '
    s/SELECT ragstore\.log_interaction\((.*)\);/my $args = $1; my (@n, @v);
      for my $a (split m{,\n}, $args) { $a =~ m{^\s*(\w+)\s*=>\s*(.*)$}s or die "cannot parse $a"; push @n, $1; push @v, $2; }
      my %h; @h{@n} = @v;
      my $d = delete $h{duration_ms}; my $t = delete $h{time_to_first_token_ms};
      $h{finished_at} = "now() + ($d) * interval \x271 millisecond\x27";
      $h{first_token_at} = "now() + ($t) * interval \x271 millisecond\x27";
      $h{started_at} = "now()";
      my @k = sort keys %h;
      "INSERT INTO bench_plain (" . join(", ", @k) . ")\n  VALUES (" . join(",\n          ", map { $h{$_} } @k) . ");"/se' \
    bench/pgbench/log.sql > "$work/plain.sql"
  grep -q 'INSERT INTO bench_plain' "$work/plain.sql" || rs_die "could not derive plain.sql"
  chmod 644 "$work"/*.sql
  declare -a t_plain t_log
  for r in $(seq 1 "$ROUNDS"); do
    for s in plain log; do
      psql -X -q -c "CHECKPOINT" >/dev/null
      pgbench -n -M extended -c "$CLIENTS" -j 2 -T "$DURATION" -D nkeys=10000 -f "$work/$s.sql" > "$work/$s.$r.out" 2>&1 \
        || { tail -5 "$work/$s.$r.out"; rs_die "pgbench $s failed"; }
      v=$(tps_of "$work/$s.$r.out")
      echo "round $r: $s $v tps"
      if [ $s = plain ]; then t_plain+=("$v"); else t_log+=("$v"); fi
    done
  done
  mp=$(printf '%s\n' "${t_plain[@]}" | median); ml=$(printf '%s\n' "${t_log[@]}" | median)
  echo
  echo "| logging, $CLIENTS clients, -M extended, ${DURATION}s x $ROUNDS rounds | median tps |"
  echo "|---|---|"
  echo "| plain INSERT, unpartitioned, no index/constraint/trigger | ${mp%.*} |"
  echo "| ragstore.log_interaction (partitioned, 1 index, CHECK, rollup queue) | ${ml%.*} |"
  echo "| ratio | $(awk -v a="$ml" -v b="$mp" 'BEGIN { printf "%.0f%%", 100 * a / b }') (target >= 80%) |"
  psql -X -At -c "SELECT 'rows logged: ' || count(*) FROM ragstore.interactions"
fi

if [[ " ${parts[*]} " == *" cache "* ]]; then
  echo
  echo "loading $CACHE_ROWS SYNTHETIC cache entries of $CACHE_DIM dims (gen_mixture.pl) ..."
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE bench_vec (id int, v vector($CACHE_DIM))"
  perl bench/pgbench/gen_mixture.pl --rows "$CACHE_ROWS" --dim "$CACHE_DIM" --seed 2 \
    | psql -X -q -v ON_ERROR_STOP=1 -c "\\copy bench_vec FROM pstdin"
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE bench_queries (qid int PRIMARY KEY, v vector($CACHE_DIM))"
  perl bench/pgbench/gen_mixture.pl --rows 1000 --dim "$CACHE_DIM" --seed 3 --centres $((CACHE_ROWS >= 200 ? CACHE_ROWS / 100 : 2)) \
    | psql -X -q -v ON_ERROR_STOP=1 -c "\\copy bench_queries FROM pstdin"
  # the hnsw index (if any) is built once after the load, not grown insert by insert
  psql -X -q -v ON_ERROR_STOP=1 -c "DROP INDEX IF EXISTS ragstore.cache_entries_hnsw_$CACHE_DIM"
  psql -X -q -v ON_ERROR_STOP=1 \
    -c "INSERT INTO ragstore.cache_entries (model, prompt, embedding, response, expires_at)
        SELECT 'bench-llm', 'prompt ' || id, v, 'answer ' || id, now() + interval '1 day' FROM bench_vec" \
    -c "DROP TABLE bench_vec" -c "VACUUM ANALYZE ragstore.cache_entries" -c "ANALYZE bench_queries"
  if psql -X -At -c "SELECT 1 FROM pg_am WHERE amname = 'hnsw'" | grep -q 1; then
    t0=$(date +%s)
    psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" -c "SET LOCAL maintenance_work_mem = '3GB'" \
         -c "SELECT ragstore.cache_create_index($CACHE_DIM)" -c "COMMIT" >/dev/null
    echo "hnsw index for $CACHE_DIM dims built in $(( $(date +%s) - t0 )) s"
  fi
  plan=$(psql -X -At -c "EXPLAIN SELECT c.id FROM ragstore.cache_entries c
      WHERE c.dims = $CACHE_DIM AND c.model = 'bench-llm' AND c.tenant IS NULL AND c.user_id IS NULL AND c.expires_at > now()
      ORDER BY c.embedding::vector($CACHE_DIM) <=> (SELECT v FROM bench_queries WHERE qid = 1)::vector($CACHE_DIM) LIMIT 1")
  if grep -q hnsw <<<"$plan"; then how="hnsw index scan"; else how="EXACT scan (no hnsw index)"; fi
  echo "lookup plan: $how"
  printf '%s\n' "$plan" | sed 's/^/    /'
  # a running server's cache is warm: load the index and the table into shared buffers
  # (pg_prewarm, shipped with PostgreSQL) so the timed lookups do not measure first reads
  psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
       -c "SELECT pg_prewarm(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'ragstore' AND c.relname LIKE 'cache_entries%' AND c.relkind IN ('r', 'i')" >/dev/null
  printf '%s\n' '\set q random(1, 1000)' \
    "SELECT count(*) FROM ragstore.cache_lookup((SELECT v FROM bench_queries WHERE qid = :q), 'bench-llm', max_distance => 0.1);" \
    > "$work/lookup.sql"
  chmod 644 "$work/lookup.sql"
  (cd "$work" && pgbench -n -M extended -c 1 -t "$LOOKUPS" -f lookup.sql --log --log-prefix=lookup > lookup.out 2>&1) \
    || { tail -5 "$work/lookup.out"; rs_die "pgbench lookup failed"; }
  read -r n p50 p95 p99 < <(cat "$work"/lookup.[0-9]* 2>/dev/null | awk 'NF >= 6 { print $3 }' | sort -n | awk '{ a[NR] = $1 } END {
      printf "%d %.2f %.2f %.2f\n", NR, a[int(NR * 0.50)] / 1000, a[int(NR * 0.95)] / 1000, a[int(NR * 0.99)] / 1000 }')
  echo
  echo "| cache_lookup, $CACHE_ROWS x $CACHE_DIM SYNTHETIC entries, 1 client, $how | lookups | p50 ms | p95 ms | p99 ms |"
  echo "|---|---|---|---|---|"
  echo "| | $n | $p50 | $p95 | $p99 |"
fi
