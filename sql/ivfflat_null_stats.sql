-- ivfflat: a NULL query value returns every indexed row (a sequential scan returns every row,
-- all distances NULL) for every operator class, whatever ivfflat.probes is; every index scan
-- of ivfflat and hnsw is counted in idx_scan.
SET client_min_messages = warning;
CREATE TABLE ivf_n (id int, v vector(3), h halfvec(3), b bit(16));
INSERT INTO ivf_n SELECT i, format('[%s,%s,%s]', sin(i), cos(i * 0.3), sin(i * 1.7))::vector,
  format('[%s,%s,%s]', cos(i), sin(i * 0.9), cos(i * 2.1))::halfvec,
  ((i * 40503) % 65536)::bit(16)
  FROM generate_series(1, 2000) i;
-- not indexed: NULLs; zero vectors under cosine
INSERT INTO ivf_n VALUES (3001, NULL, NULL, NULL), (3002, '[0,0,0]', '[0,0,0]', B'0000000000000000');
RESET client_min_messages;
SET enable_seqscan = off;
SET ivfflat.probes = 1;

-- count(*) through the index of one operator class and the rows it should return
CREATE FUNCTION ivf_null_rows(col text, op text, opclass text, OUT uses_index boolean,
  OUT via_index bigint, OUT indexed bigint)
LANGUAGE plpgsql AS $$
DECLARE q text; line text;
BEGIN
  EXECUTE format('CREATE INDEX ivf_n_idx ON ivf_n USING ivfflat (%I %s) WITH (lists = 20)', col, opclass);
  q := format('SELECT id FROM ivf_n ORDER BY %I %s (SELECT NULL::%s)',
              col, op, CASE col WHEN 'v' THEN 'vector' WHEN 'h' THEN 'halfvec' ELSE 'bit' END);
  uses_index := false;
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    uses_index := uses_index OR line LIKE '%Index Scan using ivf_n_idx%';
  END LOOP;
  EXECUTE format('SELECT count(*) FROM (%s) s', q) INTO via_index;
  EXECUTE format('SELECT count(*) FROM ivf_n WHERE %I IS NOT NULL %s', col,
                 CASE WHEN opclass LIKE '%cosine%' THEN format('AND id <> 3002') ELSE '' END)
    INTO indexed;
  DROP INDEX ivf_n_idx;
END $$;

SELECT * FROM ivf_null_rows('v', '<->', 'vector_l2_ops');
SELECT * FROM ivf_null_rows('v', '<#>', 'vector_ip_ops');
SELECT * FROM ivf_null_rows('v', '<=>', 'vector_cosine_ops');
SELECT * FROM ivf_null_rows('h', '<->', 'halfvec_l2_ops');
SELECT * FROM ivf_null_rows('h', '<#>', 'halfvec_ip_ops');
SELECT * FROM ivf_null_rows('h', '<=>', 'halfvec_cosine_ops');
SELECT * FROM ivf_null_rows('b', '<~>', 'bit_hamming_ops');
-- also with an iterative scan bounded by max_probes, and with a LIMIT
SET ivfflat.iterative_scan = relaxed_order;
SET ivfflat.max_probes = 2;
CREATE INDEX ivf_n_l2 ON ivf_n USING ivfflat (v vector_l2_ops) WITH (lists = 20);
EXPLAIN (COSTS OFF) SELECT id FROM ivf_n ORDER BY v <-> (SELECT NULL::vector) LIMIT 1500;
SELECT count(*) FROM (SELECT id FROM ivf_n ORDER BY v <-> (SELECT NULL::vector)) s;
SELECT count(*) FROM (SELECT id FROM ivf_n ORDER BY v <-> (SELECT NULL::vector) LIMIT 1500) s;
RESET ivfflat.max_probes;
RESET ivfflat.iterative_scan;

-- statistics: each scan (and each rescan) counts once in idx_scan. Inside a transaction block
-- the backend's pending counts are not flushed, so before/after differences are exact.
BEGIN;
SELECT pg_stat_get_xact_numscans('ivf_n_l2'::regclass) AS scans0,
  pg_stat_get_xact_tuples_returned('ivf_n_l2'::regclass) AS read0 \gset
SELECT count(*) FROM (SELECT id FROM ivf_n ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM ivf_n ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 5) s;
SELECT pg_stat_get_xact_numscans('ivf_n_l2'::regclass) - :scans0 AS idx_scan,
  pg_stat_get_xact_tuples_returned('ivf_n_l2'::regclass) - :read0 AS idx_tup_read;
-- a nested loop rescans the index once per outer row
SELECT count(*) FROM (VALUES ('[1,0,0]'::vector), ('[0,1,0]'), ('[0,0,1]')) q(x),
  LATERAL (SELECT id FROM ivf_n ORDER BY v <-> q.x LIMIT 2) s;
SELECT pg_stat_get_xact_numscans('ivf_n_l2'::regclass) - :scans0 AS idx_scan;
COMMIT;
CREATE INDEX ivf_n_hnsw ON ivf_n USING hnsw (v vector_l2_ops);
DROP INDEX ivf_n_l2;
BEGIN;
SELECT pg_stat_get_xact_numscans('ivf_n_hnsw'::regclass) AS scans0 \gset
SELECT count(*) FROM (SELECT id FROM ivf_n ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 5) s;
SELECT count(*) FROM (SELECT id FROM ivf_n ORDER BY v <-> '[0.1,0.2,0.3]' LIMIT 5) s;
SELECT pg_stat_get_xact_numscans('ivf_n_hnsw'::regclass) - :scans0 AS idx_scan;
COMMIT;
-- and the counts reach pg_stat_user_indexes once flushed
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT indexrelname, idx_scan FROM pg_stat_user_indexes WHERE relname = 'ivf_n' ORDER BY 1;

DROP TABLE ivf_n;
DROP FUNCTION ivf_null_rows;
RESET ivfflat.probes;
RESET enable_seqscan;
