#!/usr/bin/env bash
# Demo part (only with `make demo SCALE=1`, i.e. RAGSTORE_DEMO_SCALE=1): scale-out. Starts a
# primary, a streaming replica and PgBouncer in transaction pooling mode (bench/cluster, in
# .cluster-scale/ of the checkout; a cluster started earlier with more replicas is reused as it
# is), copies the sift5k rows and queries of this demo to the primary, builds the hnsw index
# there and waits until the replica has replayed it (the WAL it took), then runs the same search (every query, top 10,
# ef_search 40) on the primary directly and on the replica through PgBouncer, and checks that
# the answers are identical. Finally the lag of an ordinary write: 100 rows inserted on the
# primary, polled through PgBouncer until the replica shows them. Fails when the answers differ.
# bench/cluster's ports and directory can be changed with RAGSTORE_SCALE_PORT,
# RAGSTORE_SCALE_BOUNCER_PORT and RAGSTORE_SCALE_DIR; `bash bench/cluster stop` stops it.
source "$RAGSTORE_DEMO_LIB"

if [ "${RAGSTORE_DEMO_SCALE:-0}" != 1 ]; then
  printf '\n=== 90_scale: skipped (make demo SCALE=1 adds a primary, a replica and PgBouncer)\n'
  exit 0
fi
# PgBouncer refuses the startup parameter "options" (demo.sh's PGOPTIONS): direct connections to
# the primary pass it in their connection string instead.
quiet=${PGOPTIONS:-}
unset PGOPTIONS
cluster() { bash "$RAGSTORE_ROOT/bench/cluster" "$@"; }
line=$(demo_dataset sift)
[ -n "$line" ] || demo_fail "no data set 'sift' (10_vectors.sh loads it)"
read -r base query truth op nq label <<< "$line"

demo_step "starting a primary, a replica and PgBouncer (bench/cluster)"
args=(--no-setup)
[ -f "${RAGSTORE_SCALE_DIR:-$RAGSTORE_ROOT/.cluster-scale}/cluster.env" ] || args+=(--replicas 1)
cluster start "${args[@]}"
eval "$(cluster env)"
echo "primary:                     $SCALE_PRIMARY"
echo "replica 1:                   $SCALE_REPLICA1"
echo "PgBouncer, read-only pool:   $SCALE_BOUNCER_RO"
demo_done

dims=$(psql -X -At -c "SELECT vector_dims(embedding) FROM $base LIMIT 1")
demo_step "$label: copying rows and queries to the primary, building hnsw there while the replica replays"
prim() { PGOPTIONS=$quiet psql -X -q -v ON_ERROR_STOP=1 "$SCALE_PRIMARY" "$@"; }
prim -c "DROP TABLE IF EXISTS demo_items, demo_queries" \
     -c "CREATE TABLE demo_items (id int PRIMARY KEY, embedding vector($dims) NOT NULL)" \
     -c "CREATE TABLE demo_queries (id int PRIMARY KEY, embedding vector($dims) NOT NULL)"
demo_psql -c "\\copy $base (id, embedding) TO STDOUT WITH (FORMAT binary)" | prim -c "\\copy demo_items FROM STDIN WITH (FORMAT binary)"
demo_psql -c "\\copy $query (id, embedding) TO STDOUT WITH (FORMAT binary)" | prim -c "\\copy demo_queries FROM STDIN WITH (FORMAT binary)"
prim -c "ANALYZE demo_items"
lsn0=$(psql -X -At "$SCALE_PRIMARY" -c "SELECT pg_current_wal_lsn()")
t0=$(demo_now_ms)
prim -c "CREATE INDEX demo_items_hnsw ON demo_items USING hnsw (embedding vector_l2_ops)"
build_ms=$(( $(demo_now_ms) - t0 ))
target=$(psql -X -At "$SCALE_PRIMARY" -c "SELECT pg_current_wal_lsn()")
until [ "$(psql -X -At "$SCALE_PRIMARY" -c "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= '$target'")" -ge 1 ]; do
  sleep 0.02
done
caught_ms=$(( $(demo_now_ms) - t0 - build_ms ))
size=$(psql -X -At "$SCALE_PRIMARY" -c "SELECT pg_size_pretty(pg_relation_size('demo_items_hnsw'))")
wal=$(psql -X -At "$SCALE_PRIMARY" -c "SELECT pg_size_pretty(pg_wal_lsn_diff('$target', '$lsn0'))")
printf 'index built on the primary in %d.%02d s, %s; the build wrote %s of WAL (the whole index, as page images)\n' \
  $((build_ms / 1000)) $((build_ms % 1000 / 10)) "$size" "$wal"
echo "the replica had replayed all of it $caught_ms ms after CREATE INDEX returned"
demo_done

demo_step "$label: the same search on the primary (direct) and on the replica (through PgBouncer, pool ragstore_ro)"
search="BEGIN; SET LOCAL hnsw.ef_search = 40;
SELECT q.id, ARRAY(SELECT i.id FROM demo_items i ORDER BY i.embedding <-> q.embedding LIMIT 10) FROM demo_queries q ORDER BY q.id;
COMMIT;"
on_primary=$(psql -X -q -At "$SCALE_PRIMARY" -c "$search")
on_replica=$(psql -X -q -At "$SCALE_BOUNCER_RO" -c "$search")
psql -X -q -At "$SCALE_BOUNCER_RO" -c "SELECT 'answered by: ' || CASE WHEN pg_is_in_recovery() THEN 'a replica' ELSE 'the primary' END || ' (port ' || inet_server_port() || ')'"
echo "plan on the replica: $(psql -X -q -At "$SCALE_BOUNCER_RO" -c "EXPLAIN (COSTS OFF) SELECT id FROM demo_items ORDER BY embedding <-> (SELECT embedding FROM demo_queries ORDER BY id LIMIT 1) LIMIT 10" | grep -o 'Index Scan using demo_items_hnsw')"
echo "query 0, primary: $(head -1 <<< "$on_primary" | cut -d'|' -f2)"
echo "query 0, replica: $(head -1 <<< "$on_replica" | cut -d'|' -f2)"
same=$(paste -d'\n' <(echo "$on_primary") <(echo "$on_replica") | awk 'NR % 2 { a = $0; next } { n++; if ($0 == a) s++ } END { printf "%d/%d", s, n }')
echo "identical top-10 answers (ids in order): $same queries"
[ "$on_primary" = "$on_replica" ] || demo_fail "the replica's answers differ from the primary's"
demo_done

demo_step "replication lag of a write: 100 rows inserted on the primary, read through PgBouncer from the replica"
before=$(psql -X -At "$SCALE_BOUNCER_RO" -c "SELECT count(*) FROM demo_items")
# A watcher on the replica (one statement through PgBouncer) notes the time it first sees the
# rows; the primary notes the time its INSERT committed. Same machine, same clock.
watch=$(mktemp)
psql -X -q "$SCALE_BOUNCER_RO" -c "DO \$\$ BEGIN
    WHILE (SELECT count(*) FROM demo_items) < $((before + 100)) LOOP PERFORM pg_sleep(0.0005); END LOOP;
    RAISE NOTICE 'seen %', extract(epoch FROM clock_timestamp()); END \$\$" 2> "$watch" &
watcher=$!
sleep 0.5
committed=$(psql -X -q -At -v ON_ERROR_STOP=1 "$SCALE_PRIMARY" -c "INSERT INTO demo_items SELECT 1000000 + id, embedding FROM demo_items WHERE id < 100" \
               -c "SELECT extract(epoch FROM clock_timestamp())")
psql -X -q -P footer=off "$SCALE_PRIMARY" -c "
  SELECT application_name AS replica, state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) AS replay_behind_bytes,
         write_lag, flush_lag, replay_lag
    FROM pg_stat_replication ORDER BY 1"
wait "$watcher" || demo_fail "the watcher on the replica failed: $(cat "$watch")"
seen_at=$(sed -n 's/.*seen \([0-9.]*\).*/\1/p' "$watch"); rm -f "$watch"
seen=$(awk -v a="$seen_at" -v b="$committed" 'BEGIN { d = (a - b) * 1000; printf "%.1f", (d < 0 ? 0 : d) }')
echo "a session on the replica saw the 100 new rows ${seen} ms after the INSERT committed on the primary (synchronous_commit = off there: the WAL writer sends it within a few hundred ms)"
prim -c "DELETE FROM demo_items WHERE id >= 1000000"
demo_summary_add "scale-out: replica via PgBouncer" "$label" "$(printf '%d.%02d s' $((build_ms / 1000)) $((build_ms % 1000 / 10)))" "$size" "ef_search 40" "" "" \
  "identical answers on $same queries; index WAL $wal replayed $caught_ms ms after the build; an insert visible after $seen ms"
echo "the scale-out cluster stays up: eval \"\$(bash bench/cluster env)\"; psql \"\$SCALE_BOUNCER_RO\"; bash bench/cluster stop"
demo_done
