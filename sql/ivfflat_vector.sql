-- ivfflat on vector: the three operator classes return exactly the sequential scan's order when
-- every list is probed, the planner uses the index for ORDER BY ... LIMIT, NULLs (and zero
-- vectors under cosine) are not indexed, inserts after the build are found, DELETE + VACUUM
-- removes rows, TRUNCATE and REINDEX work.
SET client_min_messages = warning;
CREATE TABLE ivf_t (id int, v vector(3));
INSERT INTO ivf_t SELECT i, format('[%s,%s,%s]', sin(i), cos(i * 0.7), sin(i * 1.3) + 0.5)::vector
  FROM generate_series(1, 2000) i;
INSERT INTO ivf_t VALUES (5001, NULL), (5002, '[0,0,0]');
RESET client_min_messages;

-- exact order with probes = lists, for each operator class
CREATE INDEX ivf_l2 ON ivf_t USING ivfflat (v vector_l2_ops) WITH (lists = 10);
SET ivfflat.probes = 10;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ivf_t ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 5;
CREATE TEMP TABLE ivf_got AS SELECT id FROM ivf_t ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 20;
SET enable_indexscan = off;
SELECT array_agg(id) = (SELECT array_agg(id) FROM ivf_got) AS l2_exact
  FROM (SELECT id FROM ivf_t ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 20) s;
RESET enable_indexscan;
DROP TABLE ivf_got;
-- NULLs are not indexed: the index returns every non-NULL row
SELECT count(*) AS indexed_rows FROM (SELECT id FROM ivf_t ORDER BY v <-> '[0,0,0]' LIMIT 5000) s;
-- a NULL query orders like the zero vector and does not fail
SELECT count(*) FROM (SELECT id FROM ivf_t ORDER BY v <-> NULL LIMIT 3) s;
DROP INDEX ivf_l2;

CREATE INDEX ivf_ip ON ivf_t USING ivfflat (v vector_ip_ops) WITH (lists = 10);
EXPLAIN (COSTS OFF) SELECT id FROM ivf_t ORDER BY v <#> '[0.1,0.2,0.3]' LIMIT 5;
CREATE TEMP TABLE ivf_got AS SELECT id FROM ivf_t ORDER BY v <#> '[0.1,0.2,0.3]' LIMIT 20;
SET enable_indexscan = off;
SELECT array_agg(id) = (SELECT array_agg(id) FROM ivf_got) AS ip_exact
  FROM (SELECT id FROM ivf_t ORDER BY v <#> '[0.1,0.2,0.3]' LIMIT 20) s;
RESET enable_indexscan;
DROP TABLE ivf_got;
DROP INDEX ivf_ip;

CREATE INDEX ivf_cos ON ivf_t USING ivfflat (v vector_cosine_ops) WITH (lists = 10);
EXPLAIN (COSTS OFF) SELECT id FROM ivf_t ORDER BY v <=> '[0.1,0.2,0.3]' LIMIT 5;
CREATE TEMP TABLE ivf_got AS SELECT id FROM ivf_t ORDER BY v <=> '[0.1,0.2,0.3]' LIMIT 20;
SET enable_indexscan = off;
SELECT array_agg(id) = (SELECT array_agg(id) FROM ivf_got) AS cosine_exact
  FROM (SELECT id FROM ivf_t ORDER BY v <=> '[0.1,0.2,0.3]' LIMIT 20) s;
RESET enable_indexscan;
DROP TABLE ivf_got;
-- the zero vector is not indexed under cosine
SELECT count(*) AS indexed_rows FROM (SELECT id FROM ivf_t ORDER BY v <=> '[1,1,1]' LIMIT 5000) s;
DROP INDEX ivf_cos;

-- inserts after the build, DELETE + VACUUM, TRUNCATE, REINDEX
CREATE INDEX ivf_l2 ON ivf_t USING ivfflat (v) WITH (lists = 10);
INSERT INTO ivf_t SELECT i, format('[%s,%s,%s]', cos(i), sin(i * 0.3), cos(i * 1.7))::vector
  FROM generate_series(2001, 3000) i;
SELECT id FROM ivf_t ORDER BY v <-> '[0.75,-0.5,0.25]' LIMIT 1;
INSERT INTO ivf_t VALUES (9999, '[0.75,-0.5,0.25]');
SELECT id FROM ivf_t ORDER BY v <-> '[0.75,-0.5,0.25]' LIMIT 1;
SELECT count(*) AS indexed_rows FROM (SELECT id FROM ivf_t ORDER BY v <-> '[0,0,0]' LIMIT 5000) s;
DELETE FROM ivf_t WHERE id % 3 = 0 OR id = 9999;
VACUUM ivf_t;
SELECT count(*) AS indexed_rows, count(*) FILTER (WHERE id % 3 = 0 OR id = 9999) AS deleted_seen
  FROM (SELECT id FROM ivf_t ORDER BY v <-> '[0,0,0]' LIMIT 5000) s;
-- the space freed by VACUUM is reused: refilling does not grow the index
SELECT pg_relation_size('ivf_l2') AS size_before \gset
INSERT INTO ivf_t SELECT i, format('[%s,%s,%s]', sin(i), sin(i * 0.9), cos(i * 0.1))::vector
  FROM generate_series(10001, 10500) i;
SELECT pg_relation_size('ivf_l2') = :size_before AS space_reused;
REINDEX INDEX ivf_l2;
SELECT count(*) AS indexed_rows FROM (SELECT id FROM ivf_t ORDER BY v <-> '[0,0,0]' LIMIT 5000) s;
TRUNCATE ivf_t;
SELECT count(*) FROM (SELECT id FROM ivf_t ORDER BY v <-> '[0,0,0]' LIMIT 5000) s;
INSERT INTO ivf_t VALUES (1, '[1,2,3]'), (2, '[3,2,1]');
SELECT id FROM ivf_t ORDER BY v <-> '[3,2,0]' LIMIT 2;

-- dimension mismatch in the query
SELECT id FROM ivf_t ORDER BY v <-> '[1,2]' LIMIT 1;
RESET enable_seqscan;
RESET ivfflat.probes;
DROP TABLE ivf_t;
