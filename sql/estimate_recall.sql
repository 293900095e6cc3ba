-- ragstore.estimate_recall: recall@k of an hnsw / ivfflat index against an exact scan, checked
-- against the same recall computed here in plain SQL, and its errors.
CREATE TABLE er (id int PRIMARY KEY, v vector(4));
INSERT INTO er SELECT i, format('[%s,%s,%s,%s]', sin(i * 1.1), cos(i * 2.3), sin(i * 0.7 + 1), cos(i * 1.9))::vector
  FROM generate_series(1, 300) i;
INSERT INTO er VALUES (301, NULL), (302, '[0,0,0,0]');
CREATE INDEX er_ivf ON er USING ivfflat (v vector_l2_ops) WITH (lists = 10);

-- the recall of the same queries computed in plain SQL: index results under the current
-- settings, exact k-th distances with index scans off; a hit is an index result within the
-- k-th exact distance
CREATE FUNCTION er_recall(qids int[], k int, op text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE hits bigint := 0; total bigint := 0; q record; kth float8; m int; a bigint;
BEGIN
  FOR q IN SELECT id, v FROM er WHERE id = ANY (qids) LOOP
    SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
    EXECUTE format('SELECT max(d), count(*) FROM (SELECT v %s $1 AS d FROM er WHERE v IS NOT NULL
                    ORDER BY 1 LIMIT $2) x WHERE d <> ''NaN''', op) INTO kth, m USING q.v, k;
    SET LOCAL enable_indexscan = on; SET LOCAL enable_seqscan = off;
    EXECUTE format('SELECT count(*) FROM (SELECT v %s $1 AS d FROM er ORDER BY v %s $1 LIMIT $2) x
                    WHERE d <= $3', op, op) INTO a USING q.v, k, kth;
    hits := hits + least(a, m); total := total + m;
  END LOOP;
  RETURN hits::float8 / total;
END $$;

-- ivfflat, probes 1 of 10 lists: every indexed row as a query (more queries asked than rows)
SET ivfflat.probes = 1;
SELECT r.recall < 1 AS below_one, r.recall > 0 AS above_zero,
       r.recall = er_recall((SELECT array_agg(id) FROM er WHERE v IS NOT NULL), 5, '<->') AS same_as_sql,
       r.ci_low < r.recall AND r.recall < r.ci_high AS inside_ci, r.queries, r.k
  FROM ragstore.estimate_recall('er_ivf', 1000, 5) r;
-- a seeded draw of 25 queries is the one ORDER BY random() after setseed gives
SELECT setseed(0.42);
CREATE TEMP TABLE er_q AS SELECT id FROM er
  WHERE true AND (v) IS NOT NULL AND ((v) <-> (v)) <> 'NaN'::float8 ORDER BY random() LIMIT 25;
SELECT r.recall = er_recall((SELECT array_agg(id) FROM er_q), 7, '<->') AS same_as_sql, r.queries, r.k
  FROM ragstore.estimate_recall('er_ivf', 25, 7, 0.42) r;
SELECT (ragstore.estimate_recall('er_ivf', 25, 7, 0.42)).recall
     = (ragstore.estimate_recall('er_ivf', 25, 7, 0.42)).recall AS repeatable;
-- probes = lists is exact
SET ivfflat.probes = 10;
SELECT * FROM ragstore.estimate_recall('er_ivf', 50, 10);
-- the defaults: 100 queries, k 10; settings of the session are left as they were
SELECT queries, k, recall FROM ragstore.estimate_recall('er_ivf');
SHOW enable_seqscan;
DROP INDEX er_ivf;

-- hnsw, cosine (the zero vector is neither indexed nor drawn); ef_search 2 < k returns 2 rows
CREATE INDEX er_hnsw ON er USING hnsw (v vector_cosine_ops);
SET hnsw.ef_search = 2;
SELECT r.recall < 1 AS below_one,
       r.recall = er_recall((SELECT array_agg(id) FROM er WHERE id <= 300), 5, '<=>') AS same_as_sql,
       r.queries, r.k
  FROM ragstore.estimate_recall('er_hnsw', 1000, 5) r;
SET hnsw.ef_search = 400;
SELECT * FROM ragstore.estimate_recall('er_hnsw', 1000, 5);
DROP INDEX er_hnsw;

-- an expression index on halfvec, inner product, partial: the drawn rows and the exact scan
-- keep to the index's predicate
CREATE INDEX er_half ON er USING hnsw ((v::halfvec(4)) halfvec_ip_ops) WHERE id % 2 = 0;
SELECT * FROM ragstore.estimate_recall('er_half', 1000, 3);
DROP INDEX er_half;

-- fewer rows than k: k rows are not needed
CREATE TABLE er_small (v vector(2));
INSERT INTO er_small VALUES ('[1,2]'), ('[3,4]'), ('[5,1]');
CREATE INDEX er_small_i ON er_small USING ivfflat (v) WITH (lists = 1);
SELECT * FROM ragstore.estimate_recall('er_small_i', 10, 10);
TRUNCATE er_small;
SELECT * FROM ragstore.estimate_recall('er_small_i', 10, 10);

-- errors
SELECT * FROM ragstore.estimate_recall('er_pkey', 10, 10);
SELECT * FROM ragstore.estimate_recall('er', 10, 10);
SELECT * FROM ragstore.estimate_recall('er_small_i', 0, 10);
SELECT * FROM ragstore.estimate_recall('er_small_i', 10, 0);
SELECT * FROM ragstore.estimate_recall('er_small_i', 10, NULL);
SELECT * FROM ragstore.estimate_recall('er_small_i', 10, 10, 2);
-- two identical indexes: the planner scans one of them, the other one is refused
INSERT INTO er_small VALUES ('[1,2]'), ('[3,4]');
CREATE INDEX er_small_j ON er_small USING ivfflat (v) WITH (lists = 1);
DO $$
DECLARE scanned int := 0; refused int := 0; i text;
BEGIN
  FOREACH i IN ARRAY ARRAY['er_small_i', 'er_small_j'] LOOP
    BEGIN
      PERFORM ragstore.estimate_recall(i::regclass, 2, 1); scanned := scanned + 1;
    EXCEPTION WHEN object_not_in_prerequisite_state THEN refused := refused + 1;
    END;
  END LOOP;
  RAISE NOTICE 'scanned %, refused %', scanned, refused;
END $$;
DROP TABLE er, er_small;
DROP FUNCTION er_recall;
