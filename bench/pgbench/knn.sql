-- (a) kNN search: a random query vector from bench_queries, the 10 nearest rows of bench_items
-- (100k rows, hnsw index on embedding vector_l2_ops). ef_search per transaction with SET LOCAL,
-- which works through PgBouncer's transaction pooling (a session SET would not).
-- Variables: nqueries (rows of bench_queries). run.sh rewrites the ef_search literal (--ef-search).
\set q random(1, :nqueries)
BEGIN;
SET LOCAL hnsw.ef_search = 40;
SELECT id FROM bench_items
 ORDER BY embedding <-> (SELECT embedding FROM bench_queries WHERE qid = :q)
 LIMIT 10;
COMMIT;
