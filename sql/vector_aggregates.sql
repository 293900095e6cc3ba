-- vector: avg() and sum() aggregates, serial and parallel (partial aggregation + combine).
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE sql INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,5,7]')) t(v);
-- NULL inputs are ignored
SELECT avg(v), sum(v), count(v) FROM (VALUES ('[1,2]'::vector), (NULL), ('[2,4]'), (NULL)) t(v);
-- no rows (or only NULLs) gives NULL
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM (SELECT '[1]'::vector AS v WHERE false) t;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null FROM (VALUES (NULL::vector)) t(v);
-- one row
SELECT avg(v), sum(v) FROM (VALUES ('[0.1,-0.25]'::vector)) t(v);
-- grouped
SELECT g, avg(v), sum(v) FROM (VALUES (1, '[1,1]'::vector), (2, '[2,4]'), (1, '[3,3]'), (2, '[0,0]')) t(g, v)
 GROUP BY g ORDER BY g;
-- the average is accumulated in double: exact where float32 sums would drift
SELECT avg(v) FROM (SELECT '[0.1,1e8]'::vector AS v FROM generate_series(1, 1000)) t;
SELECT avg(v) FROM (VALUES ('[16777216]'::vector), ('[1]'), ('[1]'), ('[0]')) t(v);
-- mismatched dimensions are errors
SELECT pg_temp.try($$SELECT avg(v)::text FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v)$$);
SELECT pg_temp.try($$SELECT sum(v)::text FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v)$$);
-- overflow of a sum is an error; the average of large values is fine
SELECT pg_temp.try($$SELECT sum(v)::text FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v)$$);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- the support functions directly
SELECT vector_accum('{0}', '[1,2]'), vector_accum('{1,1,2}', '[3,4]');
SELECT vector_combine('{0}', '{2,4,6}'), vector_combine('{2,4,6}', '{0}'), vector_combine('{1,1,2}', '{2,4,6}');
SELECT vector_avg('{2,4,6}'), vector_avg('{0}') IS NULL AS no_rows;
SELECT pg_temp.try($$SELECT vector_accum('{1,1,2}', '[3,4,5]')::text$$);
SELECT pg_temp.try($$SELECT vector_combine('{1,1,2}', '{1,1,2,3}')::text$$);
SELECT pg_temp.try($$SELECT vector_avg('{{1,2}}')::text$$);
SELECT aggfnoid::regprocedure, aggtransfn, aggcombinefn, aggfinalfn, aggtranstype::regtype, agginitval,
       proparallel
  FROM pg_aggregate JOIN pg_proc ON pg_proc.oid = aggfnoid
 WHERE aggfnoid::regprocedure::text IN ('avg(vector)', 'sum(vector)') ORDER BY 1::text;
-- a window aggregate (the transition value is updated in place: restarts must not leak)
SELECT id, sum(v) OVER w, avg(v) OVER w
  FROM (VALUES (1, '[1,10]'::vector), (2, '[2,20]'), (3, '[3,30]'), (4, '[4,40]')) t(id, v)
WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY id;
-- a running sum: earlier rows keep their values while the state grows in place
SELECT id, sum(v) OVER (ORDER BY id), avg(v) OVER (ORDER BY id), sum(v) OVER () AS total
  FROM (VALUES (1, '[1,10]'::vector), (2, '[2,20]'), (3, '[3,30]'), (4, '[4,40]')) t(id, v) ORDER BY id;
-- the first input becomes the state by copy: an outer value is never modified
SELECT x, (SELECT sum(v) FROM (VALUES (x), ('[1,1]'::vector)) s(v)) AS s, x AS x_after
  FROM (VALUES ('[5,6]'::vector)) t(x);
SELECT sum(v ORDER BY v), sum(DISTINCT v), avg(DISTINCT v)
  FROM (VALUES ('[1,10]'::vector), ('[1,10]'), ('[3,30]')) t(v);

-- parallel aggregation: partial aggregates in two workers, combined by the leader
CREATE TABLE vector_agg_t (id int, v vector(3));
INSERT INTO vector_agg_t
  SELECT i, ARRAY[i % 7, (i % 13) * 0.5, -(i % 5)]::real[]::vector FROM generate_series(1, 100000) i;
INSERT INTO vector_agg_t VALUES (0, NULL);
ANALYZE vector_agg_t;
CREATE TEMP TABLE serial_result AS SELECT avg(v) AS a, sum(v) AS s, count(v) AS n FROM vector_agg_t;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vector_agg_t;
CREATE TEMP TABLE parallel_result AS SELECT avg(v) AS a, sum(v) AS s, count(v) AS n FROM vector_agg_t;
SELECT s.a = p.a AS same_avg, s.s = p.s AS same_sum, s.n = p.n AS same_count, p.a, p.s
  FROM serial_result s, parallel_result p;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
-- a dimension mismatch between rows seen by different workers is still an error
INSERT INTO vector_agg_t (id, v) SELECT -1, '[1,2,3]';
ALTER TABLE vector_agg_t ALTER COLUMN v TYPE vector;
INSERT INTO vector_agg_t VALUES (-2, '[1,2]');
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
-- (which dimension count comes first depends on the workers' pages: mask the numbers)
SELECT regexp_replace(pg_temp.try($$SELECT avg(v)::text FROM vector_agg_t$$), ' \d+', ' N', 'g');
SELECT regexp_replace(pg_temp.try($$SELECT sum(v)::text FROM vector_agg_t$$), ' \d+', ' N', 'g');
RESET ALL;
DROP TABLE vector_agg_t;
