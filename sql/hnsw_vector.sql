-- hnsw on vector: every operator class, options, settings, limits, NULL/zero handling,
-- inserts, deletes + VACUUM, TRUNCATE, REINDEX, unlogged tables, iterative scans.
SET client_min_messages = warning;
-- one build thread: the in-memory build is then deterministic
SET ragstore.max_threads = 1;

CREATE TABLE hv (id int, v vector(3));
INSERT INTO hv SELECT i, format('[%s,%s,%s]', sin(i), cos(i * 1.3), sin(i * 0.7) * 2)::vector
  FROM generate_series(1, 300) i;
INSERT INTO hv VALUES (1000, NULL), (1001, '[0,0,0]');

-- no default operator class
CREATE INDEX ON hv USING hnsw (v);

-- the index answers ORDER BY ... LIMIT, in distance order, with the same rows as an exact scan
-- (300 rows, ef_search 100: the search is exact on data this small)
CREATE FUNCTION hnsw_check(op text, q text, k int) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE idx int[]; ex int[];
BEGIN
  SET LOCAL enable_seqscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hv ORDER BY v %s %L LIMIT %s) s', op, q, k) INTO idx;
  SET LOCAL enable_seqscan = on;
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM hv WHERE v IS NOT NULL ORDER BY v %s %L, id LIMIT %s) s', op, q, k) INTO ex;
  IF idx IS DISTINCT FROM ex THEN RAISE WARNING 'index % exact %', idx, ex; END IF;
  RETURN idx IS NOT DISTINCT FROM ex;
END $$;

SET hnsw.ef_search = 100;
CREATE INDEX hv_l2 ON hv USING hnsw (v vector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY v <-> '[1,1,1]' LIMIT 5;
SELECT hnsw_check('<->', '[1,1,1]', 10), hnsw_check('<->', '[-0.5,0.2,1.5]', 25);
-- without iterative scans at most ef_search rows come back
SELECT count(*) FROM (SELECT * FROM hv ORDER BY v <-> '[0,0,0]' LIMIT 400) s;
-- NULL is never returned; the zero vector is indexed under L2
SET hnsw.ef_search = 1000;
-- (HNSW may leave a few elements unreachable: counts are checked with a small margin)
SELECT count(*) = count(v) AS no_null, count(*) >= 295 AS nearly_all FROM (SELECT * FROM hv ORDER BY v <-> '[0,0,0]' LIMIT 400) s;
SELECT id FROM hv ORDER BY v <-> '[0,0,0]' LIMIT 1;
-- wrong dimensions
SELECT id FROM hv ORDER BY v <-> '[1,2]' LIMIT 1;
-- without ORDER BY the index is not used
RESET enable_seqscan;
EXPLAIN (COSTS OFF) SELECT id FROM hv WHERE id = 3;
SET enable_seqscan = off;
DROP INDEX hv_l2;

CREATE INDEX hv_ip ON hv USING hnsw (v vector_ip_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY v <#> '[1,1,1]' LIMIT 5;
SELECT hnsw_check('<#>', '[1,1,1]', 10), hnsw_check('<#>', '[-0.5,0.2,1.5]', 25);
DROP INDEX hv_ip;

CREATE INDEX hv_cos ON hv USING hnsw (v vector_cosine_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY v <=> '[1,1,1]' LIMIT 5;
SELECT hnsw_check('<=>', '[1,1,1]', 10), hnsw_check('<=>', '[-0.5,0.2,1.5]', 25);
-- the zero vector is not indexed under cosine (nor NULL)
SET hnsw.ef_search = 1000;
SELECT count(*) BETWEEN 290 AND 300 FROM (SELECT * FROM hv ORDER BY v <=> '[1,0,0]' LIMIT 400) s;
SET hnsw.ef_search = 100;
DROP INDEX hv_cos;

CREATE INDEX hv_l1 ON hv USING hnsw (v vector_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hv ORDER BY v <+> '[1,1,1]' LIMIT 5;
SELECT hnsw_check('<+>', '[1,1,1]', 10), hnsw_check('<+>', '[-0.5,0.2,1.5]', 25);
DROP INDEX hv_l1;

-- options
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 31);
CREATE INDEX ON hv USING hnsw (v vector_l2_ops) WITH (lists = 4);
CREATE INDEX hv_opt ON hv USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 4);
SELECT count(*) FROM (SELECT id FROM hv ORDER BY v <-> '[1,1,1]' LIMIT 5) s;
DROP INDEX hv_opt;
CREATE INDEX hv_opt ON hv USING hnsw (v vector_l2_ops) WITH (m = 100, ef_construction = 1000);
SELECT hnsw_check('<->', '[1,1,1]', 10);
DROP INDEX hv_opt;

-- settings and their bounds
SHOW hnsw.ef_search;
SHOW hnsw.iterative_scan;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.iterative_scan = on;
SET hnsw.max_scan_tuples = 0;
SET hnsw.scan_mem_multiplier = 0;
SET hnsw.scan_mem_multiplier = 1001;
SET hnsw.unknown_setting = 1;
BEGIN;
SET LOCAL hnsw.ef_search = 1;
SHOW hnsw.ef_search;
COMMIT;
SHOW hnsw.ef_search;

-- size limits
CREATE TABLE hv_nodim (v vector);
CREATE INDEX ON hv_nodim USING hnsw (v vector_l2_ops);
CREATE TABLE hv_big (v vector(2001));
CREATE INDEX ON hv_big USING hnsw (v vector_l2_ops);
CREATE TABLE hv_max (v vector(2000));
CREATE INDEX ON hv_max USING hnsw (v vector_l2_ops);
INSERT INTO hv_max SELECT array_fill(i::real, ARRAY[2000])::vector FROM generate_series(1, 20) i;
SELECT v <-> array_fill(3.1::real, ARRAY[2000])::vector < 5 FROM hv_max ORDER BY v <-> array_fill(3.1::real, ARRAY[2000])::vector LIMIT 1;
DROP TABLE hv_nodim, hv_big, hv_max;

SET hnsw.ef_search = 1000;
-- inserts into an index built on an empty table, deletes, VACUUM, UPDATE, TRUNCATE, REINDEX
CREATE TABLE hv2 (id int, v vector(3));
CREATE INDEX hv2_idx ON hv2 USING hnsw (v vector_l2_ops);
INSERT INTO hv2 SELECT id, v FROM hv;
SELECT count(*) BETWEEN 290 AND 301 FROM (SELECT id FROM hv2 ORDER BY v <-> '[0,0,0]' LIMIT 400) s;
DELETE FROM hv2 WHERE id % 3 = 0;
VACUUM hv2;
SELECT count(*) BETWEEN 190 AND 201 AS nearly_all, count(*) FILTER (WHERE id % 3 = 0) AS deleted FROM (SELECT id FROM hv2 ORDER BY v <-> '[0,0,0]' LIMIT 400) s;
UPDATE hv2 SET v = '[9,9,9]' WHERE id = 1;
SELECT id FROM hv2 ORDER BY v <-> '[9,9,9]' LIMIT 1;
INSERT INTO hv2 SELECT id + 10000, v FROM hv WHERE v IS NOT NULL;
VACUUM hv2;
SELECT count(*) BETWEEN 490 AND 502 FROM (SELECT id FROM hv2 ORDER BY v <-> '[0,0,0]' LIMIT 1000) s;
REINDEX INDEX hv2_idx;
SELECT count(*) BETWEEN 490 AND 502 FROM (SELECT id FROM hv2 ORDER BY v <-> '[0,0,0]' LIMIT 1000) s;
REINDEX INDEX CONCURRENTLY hv2_idx;
SELECT count(*) BETWEEN 490 AND 502 FROM (SELECT id FROM hv2 ORDER BY v <-> '[0,0,0]' LIMIT 1000) s;
TRUNCATE hv2;
SELECT count(*) FROM (SELECT id FROM hv2 ORDER BY v <-> '[0,0,0]' LIMIT 10) s;
INSERT INTO hv2 VALUES (1, '[1,2,3]');
SELECT id FROM hv2 ORDER BY v <-> '[0,0,0]' LIMIT 10;
DROP TABLE hv2;

-- unlogged tables
CREATE UNLOGGED TABLE hv3 (id int, v vector(3));
CREATE INDEX ON hv3 USING hnsw (v vector_cosine_ops);
INSERT INTO hv3 SELECT id, v FROM hv;
SELECT count(*) BETWEEN 290 AND 300 FROM (SELECT id FROM hv3 ORDER BY v <=> '[1,1,1]' LIMIT 400) s;
DROP TABLE hv3;

RESET hnsw.ef_search;
-- iterative scans: a filter that keeps 1 row in 10
CREATE TABLE hv4 (id int, v vector(3));
INSERT INTO hv4 SELECT i, format('[%s,%s,%s]', sin(i), cos(i * 1.3), sin(i * 0.7) * 2)::vector
  FROM generate_series(1, 3000) i;
CREATE INDEX ON hv4 USING hnsw (v vector_l2_ops);
ANALYZE hv4;
SET hnsw.ef_search = 10;
SELECT count(*) FROM (SELECT id FROM hv4 WHERE id % 10 = 0 ORDER BY v <-> '[0,0,0]' LIMIT 20) s;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM hv4 WHERE id % 10 = 0 ORDER BY v <-> '[0,0,0]' LIMIT 20) s;
SET hnsw.iterative_scan = strict_order;
SELECT count(*) FROM (SELECT id FROM hv4 WHERE id % 10 = 0 ORDER BY v <-> '[0,0,0]' LIMIT 20) s;
-- strict order: distances never decrease
SELECT bool_and(d >= prev) FROM (
  SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY rn) AS prev FROM (
    SELECT row_number() OVER () AS rn, d FROM (
      SELECT v <-> '[0,0,0]' AS d FROM hv4 WHERE id % 10 = 0 ORDER BY v <-> '[0,0,0]' LIMIT 50) a) b) c;
-- bounded by max_scan_tuples
SET hnsw.max_scan_tuples = 50;
SELECT count(*) < 20 FROM (SELECT id FROM hv4 WHERE id % 100 = 0 ORDER BY v <-> '[0,0,0]' LIMIT 20) s;
RESET hnsw.max_scan_tuples;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
RESET enable_seqscan;
-- a very selective filter with a btree on it: the planner prefers the btree
CREATE INDEX ON hv4 (id);
EXPLAIN (COSTS OFF) SELECT id FROM hv4 WHERE id = 7 ORDER BY v <-> '[0,0,0]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM hv4 ORDER BY v <-> '[0,0,0]' LIMIT 5;
DROP TABLE hv4;

DROP TABLE hv;
DROP FUNCTION hnsw_check;
