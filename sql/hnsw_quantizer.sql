-- hnsw with quantized elements (WITH (quantizer = ...)): option values, hnsw.rerank_candidates,
-- dimension limits and errors with their SQLSTATEs, and rows in exact distance order after the
-- ORDER BY recheck re-scores the graph's candidates from the table's vectors.

-- Runs a statement; returns 'ok' or its SQLSTATE, message and hint.
CREATE FUNCTION hq_try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  hint text;
BEGIN
  EXECUTE stmt;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (HINT: ' || nullif(hint, '') || ')', '');
END $$;

-- ids of the 15 rows nearest to q by `op`, through whatever plan the settings give
CREATE FUNCTION hq_top(tbl text, col text, op text, q text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
  r int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s ORDER BY %s %s %L, id LIMIT 15) s',
                 tbl, col, op, q) INTO r;
  RETURN r;
END $$;

-- the same through the index alone (the executor's order: no tie-break column)
CREATE FUNCTION hq_index_top(tbl text, col text, op text, q text) RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE
  r int[];
BEGIN
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %s ORDER BY %s %s %L LIMIT 15) s',
                 tbl, col, op, q) INTO r;
  RETURN r;
END $$;

-- 300 rows of 24 dimensions (a deterministic spread, no two rows alike) and their halfvecs
CREATE TABLE hq (id int, v vector(24), h halfvec(24));
INSERT INTO hq SELECT i,
    (SELECT array_agg(cos(i * 0.517 + j * 0.91) * (1 + (i % 4)) + sin(j * i * 0.017)) FROM generate_series(1, 24) j)::vector,
    NULL
  FROM generate_series(1, 300) i;
UPDATE hq SET h = v::halfvec(24);

-- ---- the option: 'none' (the default), 'sq8', 'binary'; anything else is 22023
CREATE INDEX hq_none ON hq USING hnsw (v vector_l2_ops) WITH (quantizer = 'none');
CREATE INDEX hq_sq8 ON hq USING hnsw (v vector_l2_ops) WITH (quantizer = 'sq8');
CREATE INDEX hq_bin ON hq USING hnsw (v vector_l2_ops) WITH (quantizer = 'binary', m = 8);
SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'hq\_%' ORDER BY relname;
SELECT hq_try($$CREATE INDEX ON hq USING hnsw (v) WITH (quantizer = 'pq')$$);
SELECT hq_try($$CREATE INDEX ON hq USING hnsw (v) WITH (quantizer = '')$$);
DROP INDEX hq_none, hq_sq8, hq_bin;

-- ---- hnsw.rerank_candidates: 100 by default, 0..1000
SHOW hnsw.rerank_candidates;
SELECT hq_try('SET hnsw.rerank_candidates = -1');
SELECT hq_try('SET hnsw.rerank_candidates = 1001');
SELECT hq_try('SET hnsw.rerank_candidates = 0');
RESET hnsw.rerank_candidates;

-- ---- types and operator classes a quantizer does not apply to: 0A000
CREATE TABLE hq_other (b bit(16), s sparsevec(16), v vector(4));
SELECT hq_try($$CREATE INDEX ON hq_other USING hnsw (b bit_hamming_ops) WITH (quantizer = 'binary')$$);
SELECT hq_try($$CREATE INDEX ON hq_other USING hnsw (s sparsevec_l2_ops) WITH (quantizer = 'sq8')$$);
SELECT hq_try($$CREATE INDEX ON hq_other USING hnsw (v vector_l1_ops) WITH (quantizer = 'sq8')$$);
DROP TABLE hq_other;

-- ---- dimension limits: pgvector's for an unquantized index (with a hint naming the option),
-- sq8 and binary up to 16,000 (the types' own limit: 16,001 is refused by the column type)
CREATE TABLE hq_wide (v2001 vector(2001), h4001 halfvec(4001), v8000 vector(8000),
                      v8001 vector(8001), h8001 halfvec(8001), v16000 vector(16000),
                      h16000 halfvec(16000));
SELECT hq_try('CREATE INDEX ON hq_wide USING hnsw (v2001 vector_l2_ops)');
SELECT hq_try('CREATE INDEX ON hq_wide USING hnsw (h4001 halfvec_l2_ops)');
SELECT hq_try('CREATE INDEX ON hq_wide USING hnsw (v16000 vector_l2_ops)');
SELECT hq_try($$CREATE INDEX ON hq_wide USING hnsw (v8000 vector_l2_ops) WITH (quantizer = 'sq8')$$);
SELECT hq_try($$CREATE INDEX ON hq_wide USING hnsw (v8001 vector_l2_ops) WITH (quantizer = 'sq8')$$);
SELECT hq_try($$CREATE INDEX ON hq_wide USING hnsw (h8001 halfvec_ip_ops) WITH (quantizer = 'sq8')$$);
SELECT hq_try($$CREATE INDEX ON hq_wide USING hnsw (v16000 vector_l2_ops) WITH (quantizer = 'sq8')$$);
SELECT hq_try($$CREATE INDEX ON hq_wide USING hnsw (h16000 halfvec_cosine_ops) WITH (quantizer = 'sq8')$$);
SELECT hq_try('CREATE TABLE hq_16001 (v vector(16001))');
SELECT hq_try('CREATE TABLE hq_16001 (h halfvec(16001))');
SELECT hq_try($$CREATE INDEX ON hq_wide USING hnsw (v8001 vector_l2_ops) WITH (quantizer = 'binary')$$);
SELECT hq_try($$CREATE INDEX ON hq_wide USING hnsw (v16000 vector_cosine_ops) WITH (quantizer = 'binary')$$);
SELECT hq_try($$CREATE INDEX ON hq_wide USING hnsw (h16000 halfvec_ip_ops) WITH (quantizer = 'binary')$$);
DROP TABLE hq_wide;
-- an expression index cast over the limit: the same error and hint
CREATE TABLE hq_expr (v vector);
INSERT INTO hq_expr SELECT array_fill(1, ARRAY[2001])::vector;
SELECT hq_try('CREATE INDEX ON hq_expr USING hnsw ((v::vector(2001)) vector_l2_ops)');
DROP TABLE hq_expr;

-- ---- exact order: every vector and halfvec operator class x both quantizers. ef_search covers
-- the whole table, so the graph's candidates are every row and re-ranking must give exactly the
-- sequential scan's order (ties broken by id there; no two rows are at equal distance here).
SET enable_seqscan = off;
SET hnsw.ef_search = 300;
SET hnsw.rerank_candidates = 1000;
CREATE TABLE hq_result (col text, opclass text, quantizer text, same_as_exact bool);
DO $$
DECLARE
  c record;
  q text;
  qz text;
  want int[];
  got int[];
  same bool;
BEGIN
  FOR c IN SELECT * FROM (VALUES ('v', 'vector_l2_ops', '<->'), ('v', 'vector_ip_ops', '<#>'),
                                 ('v', 'vector_cosine_ops', '<=>'), ('h', 'halfvec_l2_ops', '<->'),
                                 ('h', 'halfvec_ip_ops', '<#>'), ('h', 'halfvec_cosine_ops', '<=>'))
                         AS x(col, opclass, op) LOOP
    FOREACH qz IN ARRAY ARRAY['sq8', 'binary'] LOOP
      EXECUTE format('CREATE INDEX hq_idx ON hq USING hnsw (%s %s) WITH (quantizer = %L)',
                     c.col, c.opclass, qz);
      same := true;
      FOR i IN 1..12 LOOP
        EXECUTE format('SELECT %s::text FROM hq WHERE id = %s', c.col, i * 23) INTO q;
        got := hq_index_top('hq', c.col, c.op, q);
        SET LOCAL enable_indexscan = off;
        SET LOCAL enable_seqscan = on;
        want := hq_top('hq', c.col, c.op, q);
        SET LOCAL enable_indexscan = on;
        SET LOCAL enable_seqscan = off;
        IF got IS DISTINCT FROM want THEN
          same := false;
          RAISE NOTICE '% % %: got %, want %', c.col, c.opclass, qz, got, want;
        END IF;
      END LOOP;
      INSERT INTO hq_result VALUES (c.col, c.opclass, qz, same);
      DROP INDEX hq_idx;
    END LOOP;
  END LOOP;
END $$;
SELECT * FROM hq_result ORDER BY col DESC, opclass, quantizer;

-- The plan is the index scan, and the recheck reorders: rows come in exact distance order.
CREATE INDEX hq_sq8 ON hq USING hnsw (v vector_l2_ops) WITH (quantizer = 'sq8');
EXPLAIN (COSTS OFF) SELECT id FROM hq ORDER BY v <-> (SELECT v FROM hq WHERE id = 7) LIMIT 5;
SELECT bool_and(d >= prev) AS nondecreasing, count(*)
  FROM (SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY rn) prev
          FROM (SELECT row_number() OVER () rn, d
                  FROM (SELECT v <-> (SELECT v FROM hq WHERE id = 7) d FROM hq
                         ORDER BY v <-> (SELECT v FROM hq WHERE id = 7) LIMIT 40) s) s2) s3;
-- re-ranking off: the scan still returns the nearest rows, in code distance order
SET hnsw.rerank_candidates = 0;
SELECT count(*) FROM (SELECT id FROM hq ORDER BY v <-> (SELECT v FROM hq WHERE id = 7) LIMIT 15) s;
RESET hnsw.rerank_candidates;

-- ---- inserts (beyond the trained ranges too), DELETE, VACUUM, a NULL query, verify_index
INSERT INTO hq SELECT 1000 + i, (SELECT array_agg(5 * sin(i + j)) FROM generate_series(1, 24) j)::vector, NULL
  FROM generate_series(1, 60) i;
UPDATE hq SET h = v::halfvec(24) WHERE h IS NULL;
CREATE INDEX hq_bin ON hq USING hnsw (h halfvec_cosine_ops) WITH (quantizer = 'binary');
SELECT hq_index_top('hq', 'v', '<->', (SELECT v::text FROM hq WHERE id = 1030))
     = hq_top('hq', 'v', '<->', (SELECT v::text FROM hq WHERE id = 1030)) AS inserted_found_exactly;
DELETE FROM hq WHERE id % 3 = 0;
VACUUM hq;
SELECT hq_index_top('hq', 'v', '<->', (SELECT v::text FROM hq WHERE id = 1031))
     = hq_top('hq', 'v', '<->', (SELECT v::text FROM hq WHERE id = 1031)) AS after_vacuum_exact;
SELECT hq_index_top('hq', 'h', '<=>', (SELECT h::text FROM hq WHERE id = 101))
     = hq_top('hq', 'h', '<=>', (SELECT h::text FROM hq WHERE id = 101)) AS binary_after_vacuum_exact;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM hq ORDER BY v <-> NULL) s;
SELECT * FROM ragstore.verify_index('hq_sq8', heapallindexed => true);
SELECT * FROM ragstore.verify_index('hq_bin', heapallindexed => true);
-- estimate_recall on a quantized index (every row a candidate: exact)
SELECT recall, queries, k FROM ragstore.estimate_recall('hq_sq8', 20, 10, 0.5);
DROP INDEX hq_sq8, hq_bin;

-- ---- an empty table (the quantizer's default ranges), then inserts; the same unlogged
CREATE TABLE hq_empty (id int, v vector(8));
CREATE INDEX hq_empty_idx ON hq_empty USING hnsw (v vector_ip_ops) WITH (quantizer = 'sq8');
INSERT INTO hq_empty SELECT i, (SELECT array_agg(sin(i * j)) FROM generate_series(1, 8) j)::vector
  FROM generate_series(1, 50) i;
SELECT hq_index_top('hq_empty', 'v', '<#>', '[1,0,1,0,1,0,1,0]')
     = hq_top('hq_empty', 'v', '<#>', '[1,0,1,0,1,0,1,0]') AS empty_then_inserts_exact;
SELECT * FROM ragstore.verify_index('hq_empty_idx', heapallindexed => true);
CREATE UNLOGGED TABLE hq_unlogged (id int, v vector(8));
CREATE INDEX hq_unlogged_idx ON hq_unlogged USING hnsw (v vector_l2_ops) WITH (quantizer = 'binary');
INSERT INTO hq_unlogged SELECT * FROM hq_empty;
SELECT hq_index_top('hq_unlogged', 'v', '<->', '[1,0,1,0,1,0,1,0]')
     = hq_top('hq_unlogged', 'v', '<->', '[1,0,1,0,1,0,1,0]') AS unlogged_exact;
DROP TABLE hq_empty, hq_unlogged;

-- ---- duplicates inserted after the build share elements of up to 10 rows, as unquantized:
-- 20 identical rows make 2 elements (ef_search 1 reaches one: 10 rows), also through an
-- expression index with a predicate. Equal payloads (code, error, norm) are not enough: the
-- table row decides. Binary codes of 2 dimensions over a symmetric sample: [5.5,6.5] and
-- [6.5,5.5] have one code, error and norm, yet stay apart (5 + 5 rows: 2 elements, and 6
-- more of the first fill its element and start a third).
SET ragstore.debug_functions = on;
CREATE TABLE hq_dup (id int, v vector(8));
INSERT INTO hq_dup SELECT i, (SELECT array_agg(sin(i * 7 + j)) FROM generate_series(1, 8) j)::vector
  FROM generate_series(1, 300) i;
CREATE INDEX hq_dup_sq8 ON hq_dup USING hnsw (v vector_l2_ops) WITH (quantizer = 'sq8');
CREATE INDEX hq_dup_bin ON hq_dup USING hnsw (v vector_cosine_ops) WITH (quantizer = 'binary');
CREATE INDEX hq_dup_expr ON hq_dup USING hnsw (((v + v)::vector(8)) vector_l2_ops)
  WITH (quantizer = 'sq8') WHERE id % 2 = 0;
INSERT INTO hq_dup SELECT 1000 + i, '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' FROM generate_series(1, 20) i;
SELECT g.elements - 300 AS sq8_new_elements FROM ragstore.debug_hnsw_graph('hq_dup_sq8') g;
SELECT g.elements - 300 AS binary_new_elements FROM ragstore.debug_hnsw_graph('hq_dup_bin') g;
SELECT g.elements - 150 AS expression_new_elements FROM ragstore.debug_hnsw_graph('hq_dup_expr') g;
SET hnsw.ef_search = 1;
SELECT count(*) AS sq8_rows_at_ef_search_1
  FROM (SELECT id FROM hq_dup ORDER BY v <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 20) s;
SET hnsw.ef_search = 300;
SELECT * FROM ragstore.verify_index('hq_dup_sq8', heapallindexed => true);
SELECT * FROM ragstore.verify_index('hq_dup_bin', heapallindexed => true);
SELECT * FROM ragstore.verify_index('hq_dup_expr', heapallindexed => true);
CREATE TABLE hq_twins (v vector(2));
INSERT INTO hq_twins SELECT ARRAY[i, j] FROM generate_series(0, 9) i, generate_series(0, 9) j;
CREATE INDEX hq_twins_bin ON hq_twins USING hnsw (v vector_l2_ops) WITH (quantizer = 'binary');
INSERT INTO hq_twins SELECT '[5.5,6.5]' FROM generate_series(1, 5);
INSERT INTO hq_twins SELECT '[6.5,5.5]' FROM generate_series(1, 5);
SELECT g.elements - 100 AS twins_new_elements FROM ragstore.debug_hnsw_graph('hq_twins_bin') g;
INSERT INTO hq_twins SELECT '[5.5,6.5]' FROM generate_series(1, 6);
SELECT g.elements - 100 AS twins_new_elements FROM ragstore.debug_hnsw_graph('hq_twins_bin') g;
SELECT * FROM ragstore.verify_index('hq_twins_bin', heapallindexed => true);
-- a build that outgrows maintenance_work_mem inserts the remaining rows on disk: 20 identical
-- rows at the end of the table (past the NOTICE's row count) make 2 elements there too
CREATE TABLE hq_spill (id int, v vector(256));
INSERT INTO hq_spill SELECT i, (SELECT array_agg(sin(i * 3 + j * 0.1)) FROM generate_series(1, 256) j)::vector
  FROM generate_series(1, 900) i;
INSERT INTO hq_spill SELECT 1000 + i, (SELECT array_agg(cos(j)) FROM generate_series(1, 256) j)::vector
  FROM generate_series(1, 20) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX hq_spill_sq8 ON hq_spill USING hnsw (v vector_l2_ops) WITH (quantizer = 'sq8');
RESET maintenance_work_mem;
SELECT g.elements - 900 AS spilled_new_elements FROM ragstore.debug_hnsw_graph('hq_spill_sq8') g;
SELECT * FROM ragstore.verify_index('hq_spill_sq8', heapallindexed => true);
RESET ragstore.debug_functions;
DROP TABLE hq_dup, hq_twins, hq_spill;

-- ---- beyond pgvector's limits: 3,072 dimensions with sq8, 16,000 with binary
CREATE TABLE hq_big (id int, v vector(3072), w halfvec(16000));
INSERT INTO hq_big SELECT i,
    (SELECT array_agg(sin(i * 0.3 + j * 0.01)) FROM generate_series(1, 3072) j)::vector,
    (SELECT array_agg(cos(i * 0.2 + j * 0.001)) FROM generate_series(1, 16000) j)::halfvec
  FROM generate_series(1, 40) i;
CREATE INDEX hq_big_v ON hq_big USING hnsw (v vector_l2_ops) WITH (quantizer = 'sq8');
CREATE INDEX hq_big_w ON hq_big USING hnsw (w halfvec_cosine_ops) WITH (quantizer = 'binary');
SELECT hq_index_top('hq_big', 'v', '<->', (SELECT v::text FROM hq_big WHERE id = 9))
     = hq_top('hq_big', 'v', '<->', (SELECT v::text FROM hq_big WHERE id = 9)) AS sq8_3072_exact;
SELECT hq_index_top('hq_big', 'w', '<=>', (SELECT w::text FROM hq_big WHERE id = 9))
     = hq_top('hq_big', 'w', '<=>', (SELECT w::text FROM hq_big WHERE id = 9)) AS binary_16000_exact;
SELECT * FROM ragstore.verify_index('hq_big_v', heapallindexed => true);
SELECT * FROM ragstore.verify_index('hq_big_w', heapallindexed => true);
DROP TABLE hq_big;

-- ---- sq8 at its limit, 8,000 dimensions (an element's code fills most of a page; its
-- neighbour tuple goes to the next page): a build and an insert, exact order, vector and halfvec
CREATE TABLE hq_edge (id int, v vector(8000), h halfvec(8000));
CREATE FUNCTION hq_edge_row(i int) RETURNS vector LANGUAGE sql AS
  $$SELECT array_agg(sin(i * 0.37 + j * 0.013))::vector FROM generate_series(1, 8000) j$$;
INSERT INTO hq_edge SELECT i, hq_edge_row(i), hq_edge_row(i)::halfvec FROM generate_series(1, 24) i;
CREATE INDEX hq_edge_v ON hq_edge USING hnsw (v vector_l2_ops) WITH (quantizer = 'sq8');
CREATE INDEX hq_edge_h ON hq_edge USING hnsw (h halfvec_cosine_ops) WITH (quantizer = 'sq8');
INSERT INTO hq_edge SELECT i, hq_edge_row(i), hq_edge_row(i)::halfvec FROM generate_series(101, 106) i;
-- the exact order from a sequential scan, then the index's (its plan shown)
SET enable_seqscan = on;
SET enable_indexscan = off;
CREATE TEMP TABLE hq_edge_truth AS
  SELECT hq_top('hq_edge', 'v', '<->', (SELECT v::text FROM hq_edge WHERE id = 103)) AS v_top,
         hq_top('hq_edge', 'h', '<=>', (SELECT h::text FROM hq_edge WHERE id = 5)) AS h_top;
RESET enable_indexscan;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hq_edge ORDER BY h <=> (SELECT h FROM hq_edge WHERE id = 5) LIMIT 15;
SELECT hq_index_top('hq_edge', 'v', '<->', (SELECT v::text FROM hq_edge WHERE id = 103)) = v_top
         AS sq8_8000_vector_exact,
       hq_index_top('hq_edge', 'h', '<=>', (SELECT h::text FROM hq_edge WHERE id = 5)) = h_top
         AS sq8_8000_halfvec_exact
  FROM hq_edge_truth;
SELECT * FROM ragstore.verify_index('hq_edge_v', heapallindexed => true);
SELECT * FROM ragstore.verify_index('hq_edge_h', heapallindexed => true);
DROP TABLE hq_edge, hq_edge_truth;
DROP FUNCTION hq_edge_row;

-- ---- sq8 beyond one page: 12,000 (halfvec, cosine) and 16,000 (vector, L2) dimensions, whose
-- codes continue in a code tuple on another page (hnsw_page.h, "Wide codes"). 150 rows in 10
-- groups; recall@10 of 15 stored rows as queries against an exact scan's top 10, after the build,
-- after inserts and after DELETE + VACUUM; verify_index clean each time.
RESET enable_seqscan;
RESET hnsw.ef_search;
CREATE TABLE hq_w (id int, v vector(16000), h halfvec(12000));
CREATE FUNCTION hq_w_row(i int, dims int) RETURNS real[] LANGUAGE sql AS
  $$SELECT array_agg((sin((i % 10) * 1.3 + j * 0.011) + 0.3 * sin(i * 0.77 + j * 0.0137 * (1 + i % 3)))::real)
    FROM generate_series(1, dims) j$$;
INSERT INTO hq_w SELECT i, hq_w_row(i, 16000)::vector, hq_w_row(i, 12000)::halfvec
  FROM generate_series(1, 150) i;
CREATE INDEX hq_w_v ON hq_w USING hnsw (v vector_l2_ops) WITH (quantizer = 'sq8');
CREATE INDEX hq_w_h ON hq_w USING hnsw (h halfvec_cosine_ops) WITH (quantizer = 'sq8');
-- each element takes two pages: its start fills one, its code tuple (16,000: 8,060 + 7,940
-- code bytes; 12,000: 8,060 + 3,940) and its neighbour tuple go on the next
SELECT pg_relation_size('hq_w_v') / 8192 BETWEEN 300 AND 330 AS v_pages,
       pg_relation_size('hq_w_h') / 8192 BETWEEN 300 AND 330 AS h_pages;
-- recall@10 of 15 stored rows drawn with a fixed seed (ragstore.estimate_recall: the index's top
-- 10 against an exact scan, at the session's hnsw.ef_search)
CREATE FUNCTION hq_w_recall(idx regclass) RETURNS float8 LANGUAGE sql AS
  $$SELECT (ragstore.estimate_recall(idx, 15, 10, 0.3)).recall$$;
SELECT hq_w_recall('hq_w_v') >= 0.9 AS v_recall, hq_w_recall('hq_w_h') >= 0.9 AS h_recall;
SELECT * FROM ragstore.verify_index('hq_w_v', heapallindexed => true);
SELECT * FROM ragstore.verify_index('hq_w_h', heapallindexed => true);
-- inserts (the insert path places the code tuple on a second page), one a duplicate value
INSERT INTO hq_w SELECT i, hq_w_row(i, 16000)::vector, hq_w_row(i, 12000)::halfvec
  FROM generate_series(151, 158) i;
INSERT INTO hq_w SELECT 159, v, h FROM hq_w WHERE id = 42;
SELECT hq_w_recall('hq_w_v') >= 0.9 AS v_recall, hq_w_recall('hq_w_h') >= 0.9 AS h_recall;
SET enable_seqscan = off;
SELECT array_agg(id ORDER BY id) AS twins FROM
  (SELECT id FROM hq_w ORDER BY v <-> (SELECT v FROM hq_w WHERE id = 42) LIMIT 2) s;
RESET enable_seqscan;
SELECT * FROM ragstore.verify_index('hq_w_v', heapallindexed => true);
SELECT * FROM ragstore.verify_index('hq_w_h', heapallindexed => true);
-- DELETE + VACUUM: removed elements free their code tuples, inserts reuse the space
DELETE FROM hq_w WHERE id % 4 = 1;
VACUUM hq_w;
SELECT hq_w_recall('hq_w_v') >= 0.9 AS v_recall, hq_w_recall('hq_w_h') >= 0.9 AS h_recall;
SELECT * FROM ragstore.verify_index('hq_w_v', heapallindexed => true);
SELECT * FROM ragstore.verify_index('hq_w_h', heapallindexed => true);
CREATE TEMP TABLE hq_w_size AS SELECT pg_relation_size('hq_w_v') AS before;
INSERT INTO hq_w SELECT i, hq_w_row(i, 16000)::vector, hq_w_row(i, 12000)::halfvec
  FROM generate_series(201, 206) i;
-- 6 new elements without reuse would add 12 pages or more; a page another backend (here the
-- background writer) holds at that moment is passed over, so allow a few
SELECT pg_relation_size('hq_w_v') - before <= 3 * 8192 AS space_reused FROM hq_w_size;
SELECT hq_w_recall('hq_w_v') >= 0.9 AS v_recall;
SELECT * FROM ragstore.verify_index('hq_w_v', heapallindexed => true);
-- a damaged code TID (in a new build, the first element: block 17 after 16 parameter pages, its
-- code TID made to name the meta page): verify_index names it, a scan reaching it fails (XX002)
DROP INDEX hq_w_v;
CREATE INDEX hq_w_dmg ON hq_w USING hnsw (v vector_l2_ops) WITH (quantizer = 'sq8');
SET ragstore.debug_functions = on;
SELECT ragstore.debug_write_index_page('hq_w_dmg', 17, 1, 84, '\x00000000');
RESET ragstore.debug_functions;
SELECT block, item, problem, detail FROM ragstore.verify_index('hq_w_dmg') WHERE problem = 'code tuple';
SET hnsw.ef_search = 1000;
SET enable_seqscan = off;
SELECT hq_try($$SELECT count(*) FROM (SELECT id FROM hq_w ORDER BY v <-> (SELECT v FROM hq_w WHERE id = 42) LIMIT 300) s$$);
RESET enable_seqscan;
RESET hnsw.ef_search;
DROP TABLE hq_w, hq_w_size;
DROP FUNCTION hq_w_row, hq_w_recall;

DROP TABLE hq, hq_result;
DROP FUNCTION hq_try, hq_top, hq_index_top;
