-- hnsw sq8 against the unquantized index, side by side in one session: backend CPU per query
-- (/proc/self/schedstat, nanoseconds; superuser) and recall@10, alternating the two indexes
-- round after round so that both see the same machine load, at each ef_search.
--
-- Data: a table (id int, embedding vector(D)) such as the one `build/ann_bench --method
-- quantized --rows 20000 --dbname sq8qbench` leaves (bench/README.md, "Quantized hnsw").
-- Usage:
--   psql -d sq8qbench -v src=bench_synthetic_20000x1536_s42_c1_n1_i16 -f bench/hnsw_sq8_pairs.sql
-- Queries: 200 rows of the table (id % 100 = 7); each is its own nearest neighbour, the rest of
-- its top 10 comes from the graph. Output: one row per (round, index, ef_search).
\set ON_ERROR_STOP on
\if :{?src}
\else
  \echo 'usage: psql -v src=TABLE -f bench/hnsw_sq8_pairs.sql'
  \quit
\endif
DROP TABLE IF EXISTS pair_none, pair_sq8, pair_q;
CREATE TABLE pair_none AS SELECT id, embedding FROM :src ORDER BY id;
CREATE TABLE pair_sq8 AS SELECT id, embedding FROM :src ORDER BY id;
CREATE INDEX ON pair_none USING hnsw (embedding vector_l2_ops);
CREATE INDEX ON pair_sq8 USING hnsw (embedding vector_l2_ops) WITH (quantizer = 'sq8');
VACUUM ANALYZE pair_none;
VACUUM ANALYZE pair_sq8;
SET enable_indexscan = off;
CREATE TABLE pair_q AS
  SELECT q.id, q.embedding,
         ARRAY(SELECT t.id FROM pair_none t ORDER BY t.embedding <-> q.embedding LIMIT 10) AS truth
    FROM pair_none q WHERE q.id % 100 = 7;
RESET enable_indexscan;

CREATE OR REPLACE FUNCTION pair_cpu_ns() RETURNS bigint LANGUAGE sql AS
  $$SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint$$;

-- One pass over the queries through one index (static SQL: plans are cached).
CREATE OR REPLACE FUNCTION pair_pass(sq8 bool, ef int, OUT cpu_ms float8, OUT recall float8)
LANGUAGE plpgsql AS $f$
DECLARE qv vector; truth int[]; got int[]; c0 bigint; n int := 0; hits bigint := 0;
BEGIN
  PERFORM set_config('hnsw.ef_search', ef::text, true);
  c0 := pair_cpu_ns();
  FOR qv, truth IN SELECT embedding, pair_q.truth FROM pair_q ORDER BY id LOOP
    IF sq8 THEN
      got := ARRAY(SELECT id FROM pair_sq8 ORDER BY embedding <-> qv LIMIT 10);
    ELSE
      got := ARRAY(SELECT id FROM pair_none ORDER BY embedding <-> qv LIMIT 10);
    END IF;
    hits := hits + (SELECT count(*) FROM unnest(got) x WHERE x = ANY (truth));
    n := n + 1;
  END LOOP;
  cpu_ms := (pair_cpu_ns() - c0) / 1e6 / n;
  recall := hits::float8 / (n * 10);
END $f$;

SELECT pg_size_pretty(pg_relation_size('pair_none_embedding_idx')) AS none_size,
       pg_size_pretty(pg_relation_size('pair_sq8_embedding_idx')) AS sq8_size;
-- warm-up, then 7 rounds
SELECT * FROM pair_pass(false, 40) a, pair_pass(true, 40) b;
CREATE TEMP TABLE pair_out (r int, ef int, sq8 bool, cpu_ms float8, recall float8);
DO $$
DECLARE ef int;
BEGIN
  FOR r IN 1..7 LOOP
    FOREACH ef IN ARRAY ARRAY[40, 100] LOOP
      INSERT INTO pair_out SELECT r, ef, false, p.* FROM pair_pass(false, ef) p;
      INSERT INTO pair_out SELECT r, ef, true, p.* FROM pair_pass(true, ef) p;
    END LOOP;
  END LOOP;
END $$;
SELECT ef,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY n.cpu_ms) AS none_cpu_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY q.cpu_ms) AS sq8_cpu_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY n.cpu_ms / q.cpu_ms) AS ratio_per_round,
       min(n.recall) AS none_recall, min(q.recall) AS sq8_recall
  FROM pair_out n JOIN pair_out q USING (r, ef)
 WHERE NOT n.sq8 AND q.sq8 GROUP BY ef ORDER BY ef;
