-- hnsw: ORDER BY col <op> NULL through the index returns every indexed row (all distances are
-- NULL, so a sequential scan returns every row in any order; the index must not return fewer,
-- whatever hnsw.ef_search is), for every type and operator class, after the build, after
-- inserts, after DELETE + VACUUM, and with an iterative scan. Rows whose value is not indexed
-- (NULL; a zero vector under cosine) are not returned, as with pgvector.
SET client_min_messages = warning;
SET ragstore.max_threads = 1;
SET hnsw.ef_search = 10;
CREATE TABLE nq (id int, v vector(3), h halfvec(3), s sparsevec(3), b bit(8));
INSERT INTO nq SELECT i, format('[%s,%s,%s]', sin(i), cos(i), i % 7)::vector,
  format('[%s,%s,%s]', sin(i), cos(i), i % 7)::halfvec,
  format('{1:%s,2:%s,3:%s}/3', sin(i), cos(i), 1 + i % 7)::sparsevec, (i % 255 + 1)::bit(8)
  FROM generate_series(1, 200) i;
INSERT INTO nq VALUES (0, NULL, NULL, NULL, NULL);
CREATE INDEX ON nq USING hnsw (v vector_l2_ops);
CREATE INDEX ON nq USING hnsw (v vector_ip_ops);
CREATE INDEX ON nq USING hnsw (v vector_cosine_ops);
CREATE INDEX ON nq USING hnsw (v vector_l1_ops);
CREATE INDEX ON nq USING hnsw (h halfvec_l2_ops);
CREATE INDEX ON nq USING hnsw (h halfvec_ip_ops);
CREATE INDEX ON nq USING hnsw (h halfvec_cosine_ops);
CREATE INDEX ON nq USING hnsw (h halfvec_l1_ops);
CREATE INDEX ON nq USING hnsw (s sparsevec_l2_ops);
CREATE INDEX ON nq USING hnsw (s sparsevec_ip_ops);
CREATE INDEX ON nq USING hnsw (s sparsevec_cosine_ops);
CREATE INDEX ON nq USING hnsw (s sparsevec_l1_ops);
CREATE INDEX ON nq USING hnsw (b bit_hamming_ops);
CREATE INDEX ON nq USING hnsw (b bit_jaccard_ops);

-- For each column and operator: whether the plan is an hnsw index scan, the rows it returns for
-- a NULL query, and the rows a sequential scan returns with a non-NULL value.
CREATE FUNCTION nq_counts() RETURNS TABLE (col text, op text, index_scan boolean, returned bigint, indexed bigint)
LANGUAGE plpgsql AS $$
DECLARE plan text; typ text;
BEGIN
  FOR col, op IN SELECT * FROM (VALUES ('v', '<->'), ('v', '<#>'), ('v', '<=>'), ('v', '<+>'),
      ('h', '<->'), ('h', '<#>'), ('h', '<=>'), ('h', '<+>'), ('s', '<->'), ('s', '<#>'),
      ('s', '<=>'), ('s', '<+>'), ('b', '<~>'), ('b', '<%>')) x LOOP
    SELECT format_type(atttypid, atttypmod) INTO typ FROM pg_attribute
      WHERE attrelid = 'nq'::regclass AND attname = col;
    SET LOCAL enable_seqscan = off;
    EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM nq ORDER BY %1$s %2$s (SELECT NULL::%3$s)', col, op, typ) INTO plan;
    index_scan := plan LIKE 'Index Scan using nq_%';
    EXECUTE format('SELECT count(*) FROM (SELECT id FROM nq ORDER BY %1$s %2$s (SELECT NULL::%3$s)) t', col, op, typ)
      INTO returned;
    SET LOCAL enable_seqscan = on;
    SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT count(*) FROM nq WHERE %s IS NOT NULL', col) INTO indexed;
    SET LOCAL enable_indexscan = on;
    RETURN NEXT;
  END LOOP;
END $$;

-- after the build
SELECT * FROM nq_counts();
-- after inserts (on-disk insertion path)
INSERT INTO nq SELECT id + 1000, v, h, s, b FROM nq WHERE id BETWEEN 1 AND 60;
SELECT * FROM nq_counts();
-- after DELETE + VACUUM
DELETE FROM nq WHERE id % 10 = 3;
VACUUM nq;
SELECT * FROM nq_counts();
-- with an iterative scan (the same rows)
SET hnsw.iterative_scan = strict_order;
SELECT * FROM nq_counts();
-- in one statement with a non-NULL query on the same index (a rescan switches modes)
SET enable_seqscan = off;
SELECT q.x IS NULL AS null_query, count(*), count(DISTINCT id) FROM (VALUES (NULL::vector(3)), ('[1,1,1]')) q(x),
  LATERAL (SELECT id FROM nq ORDER BY v <-> q.x LIMIT 300) t GROUP BY 1 ORDER BY 1;
RESET enable_seqscan;
RESET hnsw.iterative_scan;
DROP TABLE nq;
DROP FUNCTION nq_counts();
