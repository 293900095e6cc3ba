-- hnsw over duplicated values (bench/README.md, "hnsw with duplicated values"): build CPU time
-- (log_statement_stats), index size, recall@10 at ef_search 40 and the rows ef_search 1 returns.
-- Run with psql against a database with ragstore: psql -X -f bench/hnsw_duplicates.sql
-- 50,000 rows of vector(128): 10,000 distinct values, each 5 times, in shuffled order
SET client_min_messages = warning;
DROP TABLE IF EXISTS dupbench, dupbench_q;
SELECT setseed(0.42);
CREATE TABLE dupbench (id int, v vector(128));
INSERT INTO dupbench
  SELECT row_number() OVER (ORDER BY random()), v FROM (
    SELECT (SELECT array_agg(random()::real) FROM generate_series(1, 128) WHERE g > 0)::vector AS v
    FROM generate_series(1, 10000) g) d, generate_series(1, 5) r;
CREATE TABLE dupbench_q AS SELECT id, v FROM dupbench WHERE id % 500 = 0;  -- 100 queries
VACUUM ANALYZE dupbench;
SET maintenance_work_mem = '512MB';
SET max_parallel_maintenance_workers = 0;
SET log_statement_stats = on;
SET client_min_messages = log;
CREATE INDEX dupbench_idx ON dupbench USING hnsw (v vector_l2_ops);
SET log_statement_stats = off;
SET client_min_messages = warning;
SELECT pg_relation_size('dupbench_idx') AS index_bytes, pg_relation_size('dupbench_idx') / 8192 AS pages;
-- recall@10 of the index at ef_search 40 against exact (rows of equal value count as any of them)
CREATE TEMP TABLE exact AS
  SELECT q.id AS qid, t.id FROM dupbench_q q, LATERAL (SELECT id FROM dupbench ORDER BY v <-> q.v LIMIT 10) t;
SET enable_seqscan = off;
SET hnsw.ef_search = 40;
CREATE TEMP TABLE approx AS
  SELECT q.id AS qid, t.id, t.d FROM dupbench_q q, LATERAL (SELECT id, v <-> q.v AS d FROM dupbench ORDER BY v <-> q.v LIMIT 10) t;
RESET enable_seqscan;
-- a hit: the returned row's distance is at most the exact 10th distance (ties count)
SELECT round(avg(hit::int), 4) AS recall_at_10 FROM (
  SELECT a.d <= (SELECT max(d.v <-> q.v) FROM exact e JOIN dupbench d ON d.id = e.id JOIN dupbench_q q ON q.id = e.qid WHERE e.qid = a.qid) AS hit
  FROM approx a) s;
SET hnsw.ef_search = 1;
SET enable_seqscan = off;
SELECT count(*) AS ef1_rows FROM (SELECT id FROM dupbench ORDER BY v <-> (SELECT v FROM dupbench_q LIMIT 1) LIMIT 50) s;
