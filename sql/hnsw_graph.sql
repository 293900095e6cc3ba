-- hnsw graph reachability: ragstore.debug_hnsw_graph (gated, checks its argument) and the
-- invariant it checks: after inserts, and after DELETE + VACUUM, every live element has a
-- layer-0 in-link and is reachable from the entry point, so an iterative scan returns every
-- row. m = 2 (4 links per element on layer 0, the minimum) and only 231 distinct vectors
-- (many exact duplicates) make lists overflow and get re-pruned on almost every insert. Rows of
-- one value share an element (up to 10 of them) when the insert's search finds it, so there are
-- fewer elements than rows.
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
-- live elements: at least one per distinct value, at most one per row (how many rows of a value
-- share an element depends on the insert searches, which start from random levels)
CREATE FUNCTION hnsw_graph_check() RETURNS TABLE (elements_ok boolean, orphans bigint, unreachable bigint)
LANGUAGE sql AS $$
  SELECT g.elements BETWEEN (SELECT count(DISTINCT v::text) FROM hnsw_graph_t)
                        AND (SELECT count(*) FROM hnsw_graph_t), g.orphans, g.unreachable
  FROM ragstore.debug_hnsw_graph('hnsw_graph_idx') g $$;
SELECT * FROM hnsw_graph_check();

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
SELECT * FROM hnsw_graph_check();
SELECT * FROM hnsw_graph_enum();

-- reclaimed space reused by more inserts, then a second round of deletes
INSERT INTO hnsw_graph_t SELECT i, ARRAY[i % 5, i % 13, i % 2]::vector FROM generate_series(2001, 2500) i;
SELECT * FROM hnsw_graph_check();
DELETE FROM hnsw_graph_t WHERE id % 2 = 0;
VACUUM hnsw_graph_t;
SELECT * FROM hnsw_graph_check();
SELECT * FROM hnsw_graph_enum();

-- a built index (in-memory builder) over the same kind of data: 13 rows of each value make two
-- elements of that value (10 and 3 rows); the build's reachability pass links any group of
-- elements cut off, and an iterative scan that starts inside one such group still enumerates
-- everything (the entry point waits in its queue)
TRUNCATE hnsw_graph_t;
DROP INDEX hnsw_graph_idx;
INSERT INTO hnsw_graph_t SELECT i, ARRAY[i % 11, i % 7, i % 3]::vector FROM generate_series(1, 3000) i;
CREATE INDEX hnsw_graph_idx ON hnsw_graph_t USING hnsw (v vector_l2_ops);
SELECT * FROM ragstore.debug_hnsw_graph('hnsw_graph_idx');
SELECT * FROM hnsw_graph_enum();

RESET ragstore.debug_functions;
DROP TABLE hnsw_graph_t;
DROP FUNCTION hnsw_graph_enum();
DROP FUNCTION hnsw_graph_check();
