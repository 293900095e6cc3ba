-- hnsw on halfvec, sparsevec and bit: every operator class returns the exact nearest rows on
-- small data (compared by distance, so ties may come in any order), and the size limits.
SET client_min_messages = warning;
-- one build thread: the in-memory build is then deterministic
SET ragstore.max_threads = 1;
CREATE TABLE ht (id int, v halfvec(3), s sparsevec(5), b bit(8));
INSERT INTO ht SELECT i, format('[%s,%s,%s]', sin(i), cos(i * 1.3), sin(i * 0.7) * 2)::halfvec,
  format('{1:%s,3:%s,5:%s}/5', sin(i), cos(i), 1 + i % 3)::sparsevec, (i % 256)::bit(8)
  FROM generate_series(1, 300) i;
INSERT INTO ht VALUES (1000, NULL, NULL, NULL), (1001, '[0,0,0]', '{}/5', '00000000');

CREATE FUNCTION ht_check(col text, op text, q text, k int) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE idx float8[]; ex float8[];
BEGIN
  SET LOCAL enable_seqscan = off;
  SET LOCAL hnsw.ef_search = 200;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT %1$s %2$s %3$L AS d FROM ht ORDER BY %1$s %2$s %3$L LIMIT %4$s) s', col, op, q, k) INTO idx;
  SET LOCAL enable_seqscan = on;
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT %1$s %2$s %3$L AS d FROM ht WHERE %1$s IS NOT NULL ORDER BY %1$s %2$s %3$L LIMIT %4$s) s', col, op, q, k) INTO ex;
  IF idx IS DISTINCT FROM ex THEN RAISE WARNING 'index % exact %', idx, ex; END IF;
  RETURN idx IS NOT DISTINCT FROM ex;
END $$;

CREATE INDEX ht_idx ON ht USING hnsw (v halfvec_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ht ORDER BY v <-> '[1,1,1]' LIMIT 5;
RESET enable_seqscan;
SELECT ht_check('v', '<->', '[1,1,1]', 10);
DROP INDEX ht_idx;
CREATE INDEX ht_idx ON ht USING hnsw (v halfvec_ip_ops);
SELECT ht_check('v', '<#>', '[1,1,1]', 10);
DROP INDEX ht_idx;
CREATE INDEX ht_idx ON ht USING hnsw (v halfvec_cosine_ops);
SELECT ht_check('v', '<=>', '[1,1,1]', 10);
-- the zero vector is not indexed under cosine
SET enable_seqscan = off;
SET hnsw.ef_search = 1000;
SELECT count(*) BETWEEN 290 AND 300 FROM (SELECT id FROM ht ORDER BY v <=> '[1,0,0]' LIMIT 400) s;
RESET enable_seqscan;
RESET hnsw.ef_search;
DROP INDEX ht_idx;
CREATE INDEX ht_idx ON ht USING hnsw (v halfvec_l1_ops);
SELECT ht_check('v', '<+>', '[1,1,1]', 10);
DROP INDEX ht_idx;

CREATE INDEX ht_idx ON ht USING hnsw (s sparsevec_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ht ORDER BY s <-> '{1:1}/5' LIMIT 5;
RESET enable_seqscan;
SELECT ht_check('s', '<->', '{1:1,3:1,5:2}/5', 10);
DROP INDEX ht_idx;
CREATE INDEX ht_idx ON ht USING hnsw (s sparsevec_ip_ops);
SELECT ht_check('s', '<#>', '{1:1,3:1,5:2}/5', 10);
DROP INDEX ht_idx;
CREATE INDEX ht_idx ON ht USING hnsw (s sparsevec_cosine_ops);
SELECT ht_check('s', '<=>', '{1:1,3:1,5:2}/5', 10);
DROP INDEX ht_idx;
CREATE INDEX ht_idx ON ht USING hnsw (s sparsevec_l1_ops);
SELECT ht_check('s', '<+>', '{1:1,3:1,5:2}/5', 10);
DROP INDEX ht_idx;

CREATE INDEX ht_idx ON ht USING hnsw (b bit_hamming_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ht ORDER BY b <~> '11110000' LIMIT 5;
RESET enable_seqscan;
SELECT ht_check('b', '<~>', '11110000', 10);
DROP INDEX ht_idx;
CREATE INDEX ht_idx ON ht USING hnsw (b bit_jaccard_ops);
SELECT ht_check('b', '<%>', '11110000', 10);
DROP INDEX ht_idx;

-- inserts after the build
CREATE INDEX ht_idx ON ht USING hnsw (v halfvec_l2_ops);
INSERT INTO ht SELECT id + 2000, v, s, b FROM ht WHERE id <= 300;
SELECT ht_check('v', '<->', '[0.5,0.5,0.5]', 20);
DROP INDEX ht_idx;

-- size limits
CREATE TABLE ht_big (v halfvec(4001));
CREATE INDEX ON ht_big USING hnsw (v halfvec_l2_ops);
CREATE TABLE ht_bits (v bit(64001));
CREATE INDEX ON ht_bits USING hnsw (v bit_hamming_ops);
CREATE TABLE ht_sparse (v sparsevec);
CREATE INDEX ON ht_sparse USING hnsw (v sparsevec_l2_ops);
INSERT INTO ht_sparse SELECT array_fill(1::real, ARRAY[1000])::sparsevec;
INSERT INTO ht_sparse SELECT array_fill(1::real, ARRAY[1001])::sparsevec;
DROP TABLE ht_big, ht_bits, ht_sparse, ht;
DROP FUNCTION ht_check;
