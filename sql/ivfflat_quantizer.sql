-- ivfflat with quantized lists (WITH (quantizer = ...)): option values, dimension limits and
-- errors with their SQLSTATEs, ivfflat.rerank_candidates, and rows in exact distance order
-- (the ORDER BY recheck re-scores candidates from the table's full-precision vectors).

-- Runs a statement; returns 'ok' or its SQLSTATE, message and hint.
CREATE FUNCTION ivfq_try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  hint text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (HINT: ' || nullif(hint, '') || ')', '');
END $$;

-- ids of the 20 rows nearest to q by `op`, through whatever plan the settings give
CREATE FUNCTION ivfq_top(tbl text, col text, op text, q text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  r int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s ORDER BY %s %s %L LIMIT 20) s',
                 tbl, col, op, q) INTO r;
  RETURN r;
END $$;

-- 400 rows of 16 dimensions (a deterministic spread, no two rows alike) and their halfvecs
CREATE TABLE ivfq (id int, v vector(16), h halfvec(16), b bit(16));
INSERT INTO ivfq SELECT i,
    (SELECT array_agg(sin(i * 0.731 + j * 1.37) * (1 + (i % 5)) + cos(j * i * 0.013)) FROM generate_series(1, 16) j)::vector,
    NULL, NULL
  FROM generate_series(1, 400) i;
UPDATE ivfq SET h = v::halfvec(16),
  b = (SELECT string_agg(CASE WHEN x > 0 THEN '1' ELSE '0' END, '') FROM unnest(v::real[]) x)::bit(16);

-- ---- the option: 'none' (the default), 'sq8', 'binary'; anything else is 22023
CREATE INDEX ivfq_none ON ivfq USING ivfflat (v) WITH (lists = 4, quantizer = 'none');
CREATE INDEX ivfq_sq8 ON ivfq USING ivfflat (v) WITH (lists = 4, quantizer = 'sq8');
CREATE INDEX ivfq_bin ON ivfq USING ivfflat (v) WITH (lists = 4, quantizer = 'binary');
SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'ivfq\_%' ORDER BY relname;
SELECT ivfq_try($$CREATE INDEX ON ivfq USING ivfflat (v) WITH (quantizer = 'pq4')$$);
SELECT ivfq_try($$CREATE INDEX ON ivfq USING ivfflat (v) WITH (quantizer = '')$$);
-- bit columns have no quantizer (0A000)
SELECT ivfq_try($$CREATE INDEX ON ivfq USING ivfflat (b bit_hamming_ops) WITH (lists = 2, quantizer = 'binary')$$);
DROP INDEX ivfq_none, ivfq_sq8, ivfq_bin;

-- ---- the setting
SHOW ivfflat.rerank_candidates;
SELECT ivfq_try('SET ivfflat.rerank_candidates = -1');
SELECT ivfq_try('SET ivfflat.rerank_candidates = 50001');
SET ivfflat.rerank_candidates = 0;
RESET ivfflat.rerank_candidates;

-- ---- exact order: every operator class of vector and halfvec, both quantizers, with every
-- list probed the index returns exactly the rows and order of the sequential scan (binary: all
-- 400 rows re-scored; 16 bits per row keep too little of these vectors for the best 100 by code
-- distance to hold the 20 nearest)
CREATE TABLE ivfq_cases (opclass text, col text, op text);
INSERT INTO ivfq_cases VALUES
  ('vector_l2_ops', 'v', '<->'), ('vector_ip_ops', 'v', '<#>'), ('vector_cosine_ops', 'v', '<=>'),
  ('halfvec_l2_ops', 'h', '<->'), ('halfvec_ip_ops', 'h', '<#>'), ('halfvec_cosine_ops', 'h', '<=>');
CREATE TABLE ivfq_results (quantizer text, opclass text, query int, exact boolean, index_used boolean);
DO $$
DECLARE
  c record;
  qz text;
  q int;
  want int[];
  got int[];
  qv text;
  plan text;
  line text;
BEGIN
  FOR qz IN SELECT unnest(ARRAY['sq8', 'binary']) LOOP
    FOR c IN SELECT * FROM ivfq_cases LOOP
      EXECUTE format('CREATE INDEX ivfq_idx ON ivfq USING ivfflat (%s %s) WITH (lists = 4, quantizer = %L)',
                     c.col, c.opclass, qz);
      FOR q IN SELECT unnest(ARRAY[3, 77, 250]) LOOP
        EXECUTE format('SELECT %s::text FROM ivfq WHERE id = %s', c.col, q) INTO qv;
        -- a query near, not equal to, a stored row
        qv := regexp_replace(qv, '^\[([-0-9.e]+)', '[\1' || '1');
        PERFORM set_config('enable_seqscan', 'on', true);
        PERFORM set_config('enable_indexscan', 'off', true);
        want := ivfq_top('ivfq', c.col, c.op, qv);
        PERFORM set_config('enable_seqscan', 'off', true);
        PERFORM set_config('enable_indexscan', 'on', true);
        PERFORM set_config('ivfflat.probes', '4', true);
        PERFORM set_config('ivfflat.rerank_candidates', CASE qz WHEN 'binary' THEN '400' ELSE '100' END, true);
        got := ivfq_top('ivfq', c.col, c.op, qv);
        plan := '';
        FOR line IN EXECUTE format('EXPLAIN SELECT id FROM ivfq ORDER BY %s %s %L LIMIT 20', c.col, c.op, qv) LOOP
          plan := plan || line;
        END LOOP;
        INSERT INTO ivfq_results VALUES (qz, c.opclass, q, got = want, plan LIKE '%Index Scan using ivfq_idx%');
      END LOOP;
      DROP INDEX ivfq_idx;
    END LOOP;
  END LOOP;
END $$;
SELECT quantizer, opclass, bool_and(exact) AS exact_order, bool_and(index_used) AS index_used
  FROM ivfq_results GROUP BY 1, 2 ORDER BY 1, 2;

-- ---- inserts after the build and VACUUM: still exact, and verify_index finds no problem
CREATE TABLE ivfq_ins (id int, v vector(16));
INSERT INTO ivfq_ins SELECT id, v FROM ivfq WHERE id <= 100;
CREATE INDEX ivfq_ins_sq8 ON ivfq_ins USING ivfflat (v vector_l2_ops) WITH (lists = 3, quantizer = 'sq8');
CREATE INDEX ivfq_ins_bin ON ivfq_ins USING ivfflat (v vector_cosine_ops) WITH (lists = 3, quantizer = 'binary');
-- the later rows lie partly outside the trained ranges (scaled by 3): their codes clamp
INSERT INTO ivfq_ins SELECT id, (v::real[])::vector * '[3,3,3,3,3,3,3,3,3,3,3,3,3,3,3,3]'::vector FROM ivfq WHERE id > 100;
DELETE FROM ivfq_ins WHERE id % 3 = 0;
VACUUM ivfq_ins;
SET ivfflat.probes = 3;
SET ivfflat.rerank_candidates = 300;
SET enable_seqscan = on;
SET enable_indexscan = off;
CREATE TEMP TABLE ivfq_want AS
  SELECT ivfq_top('ivfq_ins', 'v', '<->', '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]') AS l2,
         ivfq_top('ivfq_ins', 'v', '<=>', '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]') AS cosine;
SET enable_seqscan = off;
SET enable_indexscan = on;
SELECT ivfq_top('ivfq_ins', 'v', '<->', '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]') = l2 AS sq8_l2_exact,
       ivfq_top('ivfq_ins', 'v', '<=>', '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]') = cosine AS binary_cosine_exact
  FROM ivfq_want;
-- every row comes back once through each index (a NULL query reads every list)
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM ivfq_ins ORDER BY v <-> NULL) s;
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_ins_sq8', true);
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_ins_bin', true);
-- estimate_recall works on quantized indexes: with every list probed, recall is 1
SELECT recall, queries, k FROM ragstore.estimate_recall('ivfq_ins_sq8', 20, 10, 0.5);
SELECT recall, queries, k FROM ragstore.estimate_recall('ivfq_ins_bin', 20, 10, 0.5);
-- binary with 10 candidates re-scored: the first 10 rows come in exact distance order
-- (re-scored), the next ones in code order
SET ivfflat.rerank_candidates = 10;
SELECT bool_and(d >= prev) AS first_10_ascending
  FROM (SELECT d, lag(d, 1, 0) OVER (ORDER BY n) AS prev FROM
        (SELECT row_number() OVER () AS n, d FROM
         (SELECT v <=> '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]' AS d FROM ivfq_ins
          ORDER BY v <=> '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]' LIMIT 10) s) s2) s3;
-- re-ranking off: rows in code order, every row still returned
SET ivfflat.rerank_candidates = 0;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM ivfq_ins ORDER BY v <-> '[1,2,3,4,5,6,7,8,1,2,3,4,5,6,7,8]' LIMIT 500) s;
RESET ivfflat.rerank_candidates;
RESET ivfflat.probes;
RESET enable_seqscan;
RESET enable_indexscan;

-- ---- dimensions: unquantized indexes keep pgvector's limits, with a hint at the option
CREATE TABLE ivfq_wide (id int, v2001 vector(2001), h4001 halfvec(4001), v8001 vector(8001),
                        v16000 vector(16000), h16000 halfvec(16000));
SELECT ivfq_try('CREATE INDEX ON ivfq_wide USING ivfflat (v2001)');
SELECT ivfq_try('CREATE INDEX ON ivfq_wide USING ivfflat (h4001 halfvec_l2_ops)');
SELECT ivfq_try('CREATE INDEX ON ivfq_wide USING ivfflat (v16000)');
-- quantized: sq8 and binary up to 16,000 (the types' own limit refuses 16,001)
SELECT ivfq_try($$CREATE INDEX ON ivfq_wide USING ivfflat (v8001) WITH (quantizer = 'sq8')$$);
SELECT ivfq_try($$CREATE INDEX ON ivfq_wide USING ivfflat (v16000) WITH (quantizer = 'sq8')$$);
SELECT ivfq_try($$CREATE INDEX ON ivfq_wide USING ivfflat (h16000 halfvec_cosine_ops) WITH (quantizer = 'sq8')$$);
SELECT ivfq_try('CREATE TABLE ivfq_16001 (v vector(16001))');
-- rows of 3,072 (sq8) and 16,000 (binary) dimensions
CREATE TABLE ivfq_3072 (id int, v vector(3072));
INSERT INTO ivfq_3072 SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 0.011)) FROM generate_series(1, 3072) j)
  FROM generate_series(1, 40) i;
CREATE INDEX ivfq_3072_sq8 ON ivfq_3072 USING ivfflat (v vector_cosine_ops) WITH (lists = 2, quantizer = 'sq8');
CREATE TABLE ivfq_16k (id int, v vector(16000), h halfvec(16000));
INSERT INTO ivfq_16k SELECT i, a, a FROM
  (SELECT i, (SELECT array_agg(sin(i * 0.37 + j * 0.0007)) FROM generate_series(1, 16000) j) a
   FROM generate_series(1, 30) i) s;
CREATE INDEX ivfq_16k_bin ON ivfq_16k USING ivfflat (v vector_l2_ops) WITH (lists = 2, quantizer = 'binary');
CREATE INDEX ivfq_16k_hbin ON ivfq_16k USING ivfflat (h halfvec_ip_ops) WITH (lists = 2, quantizer = 'binary');
SET enable_seqscan = off;
SET ivfflat.probes = 2;
EXPLAIN (COSTS OFF) SELECT id FROM ivfq_3072 ORDER BY v <=> (SELECT v FROM ivfq_3072 WHERE id = 7) LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM ivfq_16k ORDER BY v <-> (SELECT v FROM ivfq_16k WHERE id = 11) LIMIT 5;
SELECT array_agg(id) AS sq8_3072 FROM (SELECT id FROM ivfq_3072 ORDER BY v <=> (SELECT v FROM ivfq_3072 WHERE id = 7) LIMIT 5) s;
SELECT array_agg(id) AS binary_16000 FROM (SELECT id FROM ivfq_16k ORDER BY v <-> (SELECT v FROM ivfq_16k WHERE id = 11) LIMIT 5) s;
SELECT array_agg(id) AS halfvec_binary_16000 FROM (SELECT id FROM ivfq_16k ORDER BY h <#> (SELECT h FROM ivfq_16k WHERE id = 11) LIMIT 5) s;
RESET enable_seqscan;
SELECT array_agg(id) AS exact_3072 FROM (SELECT id FROM ivfq_3072 ORDER BY v <=> (SELECT v FROM ivfq_3072 WHERE id = 7) LIMIT 5) s;
SELECT array_agg(id) AS exact_16000 FROM (SELECT id FROM ivfq_16k ORDER BY v <-> (SELECT v FROM ivfq_16k WHERE id = 11) LIMIT 5) s;
SELECT array_agg(id) AS exact_halfvec_16000 FROM (SELECT id FROM ivfq_16k ORDER BY h <#> (SELECT h FROM ivfq_16k WHERE id = 11) LIMIT 5) s;
RESET ivfflat.probes;
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_3072_sq8', true);
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_16k_bin', true);
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_16k_hbin', true);

-- ---- damaged copies: verify_index names the problem, a scan reports XX002 (ivf_page.h gives
-- the layout; lists = 1, 16 dimensions: block 0 meta, 1 parameter page, 2 list page, 3 data page)
SET ragstore.debug_functions = on;
CREATE TABLE ivfq_dmg (id int, v vector(16));
INSERT INTO ivfq_dmg SELECT i, (SELECT array_agg(sin(i * 0.5 + j)) FROM generate_series(1, 16) j)
  FROM generate_series(1, 50) i;
CREATE INDEX ivfq_dmg_sq8 ON ivfq_dmg USING ivfflat (v) WITH (lists = 1, quantizer = 'sq8');
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_dmg_sq8', true);
-- entry 0's reconstruction error (its element's first float4, at pd_special 8184 - 24) = -1
SELECT ragstore.debug_write_index_page('ivfq_dmg_sq8', 3, 0, 8160, '\x000080bf');
SELECT block, problem, detail FROM ragstore.verify_index('ivfq_dmg_sq8', true);
-- the serialised quantizer's magic number (the parameter page's contents start at byte 24)
SELECT ragstore.debug_write_index_page('ivfq_dmg_sq8', 1, 0, 24, '\x00000000');
SELECT block, problem, detail FROM ragstore.verify_index('ivfq_dmg_sq8', true);
-- a new session reads the parameters afresh
\c
SET enable_seqscan = off;
SELECT ivfq_try($$SELECT id FROM ivfq_dmg ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 1$$);
DROP TABLE ivfq_dmg;

-- ---- sq8 beyond one data page: 16,000 (vector, L2) and 12,000 (halfvec, cosine) dimensions,
-- each entry on a data page and its continuation page (ivf_page.h). With probes = lists every
-- row is a candidate and the sq8 bound re-ranks exactly: recall@10 of 15 queries against the
-- sequential scan is 1 after the build, inserts, and DELETE + VACUUM; verify_index clean.
\c
CREATE TABLE ivfq_w (id int, v vector(16000), h halfvec(12000));
CREATE FUNCTION ivfq_w_row(i int, dims int) RETURNS real[] LANGUAGE sql AS
  $$SELECT array_agg((sin((i % 10) * 1.3 + j * 0.011) + 0.3 * sin(i * 0.77 + j * 0.0137 * (1 + i % 3)))::real)
    FROM generate_series(1, dims) j$$;
INSERT INTO ivfq_w SELECT i, ivfq_w_row(i, 16000)::vector, ivfq_w_row(i, 12000)::halfvec
  FROM generate_series(1, 150) i;
CREATE INDEX ivfq_w_v ON ivfq_w USING ivfflat (v vector_l2_ops) WITH (lists = 4, quantizer = 'sq8');
CREATE INDEX ivfq_w_h ON ivfq_w USING ivfflat (h halfvec_cosine_ops) WITH (lists = 4, quantizer = 'sq8');
-- meta, parameter and list pages, then two pages per entry
SELECT pg_relation_size('ivfq_w_v') / 8192 AS v_pages, pg_relation_size('ivfq_w_h') / 8192 AS h_pages;
-- recall@10 of 15 stored rows drawn with a fixed seed (ragstore.estimate_recall), all 4 lists
CREATE FUNCTION ivfq_w_recall(idx regclass) RETURNS float8 LANGUAGE sql
  SET ivfflat.probes = 4 AS $$SELECT (ragstore.estimate_recall(idx, 15, 10, 0.3)).recall$$;
SELECT ivfq_w_recall('ivfq_w_v') AS v_recall, ivfq_w_recall('ivfq_w_h') AS h_recall;
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_w_v', true);
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_w_h', true);
INSERT INTO ivfq_w SELECT i, ivfq_w_row(i, 16000)::vector, ivfq_w_row(i, 12000)::halfvec
  FROM generate_series(151, 160) i;
SELECT ivfq_w_recall('ivfq_w_v') AS v_recall, ivfq_w_recall('ivfq_w_h') AS h_recall;
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_w_v', true);
DELETE FROM ivfq_w WHERE id % 4 = 1;
VACUUM ivfq_w;
SELECT ivfq_w_recall('ivfq_w_v') AS v_recall, ivfq_w_recall('ivfq_w_h') AS h_recall;
-- emptied entries take new rows: the index does not grow
CREATE TEMP TABLE ivfq_w_size AS SELECT pg_relation_size('ivfq_w_v') AS before;
INSERT INTO ivfq_w SELECT i, ivfq_w_row(i, 16000)::vector, ivfq_w_row(i, 12000)::halfvec
  FROM generate_series(201, 210) i;
SELECT pg_relation_size('ivfq_w_v') = before AS space_reused FROM ivfq_w_size;
SELECT ivfq_w_recall('ivfq_w_v') AS v_recall, ivfq_w_recall('ivfq_w_h') AS h_recall;
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_w_v', true);
SELECT count(*) AS problems FROM ragstore.verify_index('ivfq_w_h', true);
-- a continuation page made a data page (its special space's type, byte 8188; block 51 follows
-- the first data page, after the meta page, 48 parameter pages and the list page)
SET ragstore.debug_functions = on;
SELECT ragstore.debug_write_index_page('ivfq_w_v', 51, 0, 8188, '\x0300');
RESET ragstore.debug_functions;
SELECT block, problem, detail FROM ragstore.verify_index('ivfq_w_v') WHERE problem = 'continuation page';
SET enable_seqscan = off;
SET ivfflat.probes = 4;
SELECT ivfq_try($$SELECT count(*) FROM (SELECT id FROM ivfq_w ORDER BY v <-> (SELECT v FROM ivfq_w WHERE id = 42) LIMIT 5) s$$);
RESET ivfflat.probes;
RESET enable_seqscan;
DROP TABLE ivfq_w, ivfq_w_size;
DROP FUNCTION ivfq_w_row, ivfq_w_recall;

DROP TABLE ivfq, ivfq_cases, ivfq_results, ivfq_ins, ivfq_wide, ivfq_3072, ivfq_16k;
DROP FUNCTION ivfq_try(text), ivfq_top(text, text, text, text);
