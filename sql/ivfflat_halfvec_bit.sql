-- ivfflat on halfvec (l2, ip, cosine) and bit (hamming): with every list probed the index
-- returns exactly the sequential scan's order; limits and errors.
SET client_min_messages = warning;
CREATE TABLE ivf_h (id int, v halfvec(3), b bit(24));
INSERT INTO ivf_h SELECT i, format('[%s,%s,%s]', sin(i), cos(i * 0.7), sin(i * 1.3) + 0.5)::halfvec,
  ((i * 2654435761) % 16777216)::bit(24)
  FROM generate_series(1, 1500) i;
INSERT INTO ivf_h VALUES (5001, NULL, NULL), (5002, '[0,0,0]', B'000000000000000000000000');
RESET client_min_messages;
SET ivfflat.probes = 10;
SET enable_seqscan = off;

CREATE FUNCTION ivf_check(op text, q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE got int[]; want int[];
BEGIN
  SET LOCAL enable_indexscan = on;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM ivf_h ORDER BY v %s %L LIMIT 20) s', op, q) INTO got;
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM ivf_h ORDER BY v %s %L LIMIT 20) s', op, q) INTO want;
  RETURN got = want;
END $$;

CREATE INDEX ivf_h_l2 ON ivf_h USING ivfflat (v halfvec_l2_ops) WITH (lists = 10);
EXPLAIN (COSTS OFF) SELECT id FROM ivf_h ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 5;
SELECT ivf_check('<->', '[0.1,0.2,0.3]') AS halfvec_l2_exact;
SELECT count(*) AS indexed_rows FROM (SELECT id FROM ivf_h ORDER BY v <-> '[0,0,0]' LIMIT 5000) s;
DROP INDEX ivf_h_l2;
CREATE INDEX ivf_h_ip ON ivf_h USING ivfflat (v halfvec_ip_ops) WITH (lists = 10);
SELECT ivf_check('<#>', '[0.1,0.2,0.3]') AS halfvec_ip_exact;
DROP INDEX ivf_h_ip;
CREATE INDEX ivf_h_cos ON ivf_h USING ivfflat (v halfvec_cosine_ops) WITH (lists = 10);
SELECT ivf_check('<=>', '[0.1,0.2,0.3]') AS halfvec_cosine_exact;
SELECT count(*) AS indexed_rows FROM (SELECT id FROM ivf_h ORDER BY v <=> '[1,1,1]' LIMIT 5000) s;
-- inserts
INSERT INTO ivf_h VALUES (9999, '[0.75,-0.5,0.25]', NULL);
SELECT id FROM ivf_h ORDER BY v <=> '[0.75,-0.5,0.25]' LIMIT 1;
SELECT id FROM ivf_h ORDER BY v <=> '[1,2]' LIMIT 1;
DROP INDEX ivf_h_cos;

-- bit: Hamming distance (ties broken the same way is not guaranteed: compare distances)
CREATE INDEX ivf_h_bit ON ivf_h USING ivfflat (b bit_hamming_ops) WITH (lists = 10);
EXPLAIN (COSTS OFF) SELECT id FROM ivf_h ORDER BY b <~> B'101010101010101010101010' LIMIT 5;
CREATE TEMP TABLE ivf_got AS
  SELECT b <~> B'101010101010101010101010' AS d FROM ivf_h ORDER BY b <~> B'101010101010101010101010' LIMIT 20;
SET enable_indexscan = off;
SELECT array_agg(d) = (SELECT array_agg(d) FROM ivf_got) AS bit_hamming_exact
  FROM (SELECT b <~> B'101010101010101010101010' AS d FROM ivf_h ORDER BY b <~> B'101010101010101010101010' LIMIT 20) s;
RESET enable_indexscan;
SELECT count(*) AS indexed_rows FROM (SELECT id FROM ivf_h ORDER BY b <~> B'000000000000000000000000' LIMIT 5000) s;
INSERT INTO ivf_h VALUES (7777, NULL, B'111100001111000011110000');
SELECT id FROM ivf_h ORDER BY b <~> B'111100001111000011110000' LIMIT 1;
SELECT id FROM ivf_h ORDER BY b <~> B'1111' LIMIT 1;

-- dimension limits: halfvec 4,000, bit 64,000
CREATE TABLE ivf_big (h halfvec(4001), b bit(64001), h2 halfvec(4000));
CREATE INDEX ON ivf_big USING ivfflat (h halfvec_l2_ops);
CREATE INDEX ON ivf_big USING ivfflat (b bit_hamming_ops);
CREATE INDEX ON ivf_big USING ivfflat (h2 halfvec_l2_ops) WITH (lists = 1);
DROP TABLE ivf_big, ivf_h, ivf_got;
DROP FUNCTION ivf_check;
RESET enable_seqscan;
RESET ivfflat.probes;
