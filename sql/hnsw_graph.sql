-- hnsw graph reachability: ragstore.debug_hnsw_graph (gated, checks its argument) and the
-- invariant it checks: after inserts, and after DELETE + VACUUM, every live element has a
-- layer-0 in-link and is reachable from the entry point, so an iterative scan returns every
-- row. m = 2 (4 links per element on layer 0, the minimum) and only 231 distinct vectors
-- (many exact duplicates) make lists overflow and get re-pruned on almost every insert.
SET client_min_messages = warning;
CREATE TABLE hnsw_graph_t (id int, v vector(3));
CREATE INDEX hnsw_graph_idx ON hnsw_graph_t USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 4);
CREATE INDEX hnsw_graph_btree ON hnsw_graph_t (id);

-- off by default (55000)
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_idx');
SET ragstore.debug_functions = on;
-- not an hnsw index (42809)
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_btree');
-- empty
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_idx');

INSERT INTO hnsw_graph_t SELECT i, ARRAY[i % 11, i % 7, i % 3]::vector FROM generate_series(1, 1000) i;
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_idx');

CREATE FUNCTION hnsw_graph_enum() RETURNS TABLE (via_index bigint, distinct_ids bigint, live bigint)
LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  SET LOCAL hnsw.iterative_scan = relaxed_order;
  SET LOCAL hnsw.max_scan_tuples = 1000000;
  RETURN QUERY SELECT count(*), count(DISTINCT id), (SELECT count(*) FROM hnsw_graph_t)
    FROM (SELECT id FROM hnsw_graph_t ORDER BY v <-> '[5,3,1]' LIMIT 100000) s;
END $$;
SELECT * FROM hnsw_graph_enum();

DELETE FROM hnsw_graph_t WHERE id % 3 = 0;
VACUUM hnsw_graph_t;
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_idx');
SELECT * FROM hnsw_graph_enum();

-- reclaimed space reused by more inserts, then a second round of deletes
INSERT INTO hnsw_graph_t SELECT i, ARRAY[i % 5, i % 13, i % 2]::vector FROM generate_series(2001, 2500) i;
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_idx');
DELETE FROM hnsw_graph_t WHERE id % 2 = 0;
VACUUM hnsw_graph_t;
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_idx');
SELECT * FROM hnsw_graph_enum();

-- a built index (in-memory builder) over the same kind of data: groups of duplicates fill each
-- other's lists; the build's reachability pass links them, and an iterative scan that starts
-- inside one such group still enumerates everything (the entry point waits in its queue)
TRUNCATE hnsw_graph_t;
DROP INDEX hnsw_graph_idx;
INSERT INTO hnsw_graph_t SELECT i, ARRAY[i % 11, i % 7, i % 3]::vector FROM generate_series(1, 3000) i;
CREATE INDEX hnsw_graph_idx ON hnsw_graph_t USING hnsw (v vector_l2_ops);
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_idx');
SELECT * FROM hnsw_graph_enum();

RESET ragstore.debug_functions;
DROP TABLE hnsw_graph_t;
DROP FUNCTION hnsw_graph_enum();
