-- sparsevec: I/O (text, binary), typmod, distances, norms, comparison and btree sparsevec_ops,
-- array casts, catalog.
-- pg_temp.try(sql) runs one statement and returns its result, or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE sql INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- valid text input: 1-based indices in any order (printed sorted), zeros dropped, whitespace
SELECT input, pg_temp.try(format('SELECT %L::sparsevec::text', input)) AS result
  FROM (VALUES ('{1:1.5,3:2}/5'), ('{3:2,1:1.5}/5'), ('{}/5'), ('{ }/1'),
               (' { 1 : 1.5 , 3 : 2 } / 5 '), (E'{\t1:\n1}\t/\r2'),
               ('{1:0,2:1,3:-0}/3'),               -- zeros dropped
               ('{1:1e-50}/1'),                    -- underflows to 0: dropped
               ('{1:1e-7,2:123456789,3:0.1}/3'),   -- shortest decimal output
               ('{1000000000:1}/1000000000'),      -- the largest dimension
               ('{1:3.4028235e38,2:-1.4e-45}/2'),
               ('{+2:1}/3'), ('{1:1.}/+3')) t(input);

-- invalid text input
SELECT input, pg_temp.try(format('SELECT %L::sparsevec::text', input)) AS result
  FROM (VALUES ('{1:1,1:2}/3'),          -- duplicate index
               ('{2:1,1:3,2:0}/3'),      -- a zero is dropped as read: no duplicate (pgvector)
               ('{0:1}/3'), ('{4:1}/3'), ('{-1:1}/3'), ('{99999999999:1}/3'),
               ('{1:NaN}/3'), ('{1:Infinity}/3'), ('{1:-inf}/3'), ('{1:4e38}/3'),
               ('{1:1}/0'), ('{}/0'), ('{}/-1'), ('{1:1}/1000000001'), ('{}/99999999999'),
               ('{1:1}'), ('{1:1}/'), ('{1:1}/3x'), ('{1:1}/3/4'), ('{1:1} x/3'),
               ('{1:1,}/3'), ('{,1:1}/3'), ('{1:}/3'), ('{:1}/3'), ('{1}/3'), ('{1:1 2:2}/3'),
               ('{a:1}/3'), ('{1:b}/3'), ('[1,2]'), ('1:1/3'), ('{1:1/3'), (''), ('{}/a'),
               ('{1.5:1}/3')) t(input);
\set VERBOSITY default
SELECT '{1:1}/3x'::sparsevec;
SELECT '{1:1}'::sparsevec;
\set VERBOSITY terse

-- non-zero elements: 16000 is the maximum; as in pgvector, the text may not hold more than
-- 16000 elements, zeros included (it counts the commas before parsing)
SELECT l2_norm(('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec)
  FROM generate_series(1, 16000) i;
SELECT pg_temp.try(format('SELECT %L::sparsevec::text',
                          '{' || string_agg(i || ':1', ',') || '}/20000'))
  FROM generate_series(1, 16001) i;
SELECT l2_norm(('{' || string_agg(i || ':' || (i % 2), ',') || '}/20000')::sparsevec)
  FROM generate_series(1, 16000) i;
SELECT pg_temp.try(format('SELECT %L::sparsevec::text',
                          '{' || string_agg(i || ':' || (i % 2), ',') || '}/20000'))
  FROM generate_series(1, 16001) i;

-- typmod
SELECT input, pg_temp.try(format('SELECT %s::text', input)) AS result
  FROM (VALUES ($$'{1:1}/3'::sparsevec(3)$$), ($$'{1:1}/2'::sparsevec(3)$$),
               ($$'{1:1}/3'::sparsevec::sparsevec(2)$$), ($$'{}/3'::sparsevec(1000000000)$$),
               ($$'{}/3'::sparsevec(1000000001)$$), ($$'{}/3'::sparsevec(0)$$),
               ($$'{}/3'::sparsevec(3, 2)$$), ($$sparsevec('{1:1}/3', 3, true)$$),
               ($$sparsevec('{1:1}/3', 4, false)$$)) t(input);
CREATE TABLE sparsevec_typmod (v sparsevec(3));
INSERT INTO sparsevec_typmod VALUES ('{1:1}/3');
INSERT INTO sparsevec_typmod VALUES ('{1:1}/4');
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'sparsevec_typmod'::regclass AND attname = 'v';
SELECT * FROM sparsevec_typmod;
DROP TABLE sparsevec_typmod;

-- binary send: int32 dim, int32 nnz, int32 unused, nnz int32 0-based indices, nnz float4
SELECT sparsevec_send('{1:1.5,5:2}/5');
SELECT sparsevec_send('{}/7');

-- binary recv, through binary COPY of a bytea (the field bytes are handed to sparsevec_recv)
CREATE TABLE sparsevec_recv (v sparsevec);
CREATE TABLE sparsevec_recv3 (v sparsevec(5));
CREATE FUNCTION pg_temp.recv(payload bytea, tab text DEFAULT 'sparsevec_recv') RETURNS text
  LANGUAGE plpgsql AS $$
DECLARE
  path text := '/tmp/ragstore_regress_sparsevec_recv_' || pg_backend_pid() || '.bin';
  r text;
BEGIN
  EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', payload, path);
  EXECUTE format('TRUNCATE %I', tab);
  EXECUTE format('COPY %I FROM %L (FORMAT binary)', tab, path);
  EXECUTE format('SELECT v::text FROM %I', tab) INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT payload, pg_temp.recv(payload::bytea) AS result
  FROM (VALUES ('\x00000005000000020000000000000000000000043fc0000040000000'),  -- {1:1.5,5:2}/5
               ('\x000000070000000000000000'),                                  -- {}/7
               ('\x00000005000000020000000100000000000000043fc0000040000000'),  -- unused = 1
               ('\x00000005000000020000000000000004000000003fc0000040000000'),  -- descending
               ('\x00000005000000020000000000000004000000043fc0000040000000'),  -- duplicate
               ('\x000000050000000100000000000000053fc00000'),                  -- index = dim
               ('\x000000050000000100000000ffffffff3fc00000'),                  -- index -1
               ('\x00000005000000010000000000000000'),                          -- no value
               ('\x0000000500000001000000000000000000000000'),                  -- zero value
               ('\x000000050000000100000000000000007fc00000'),                  -- NaN
               ('\x000000050000000100000000000000007f800000'),                  -- Infinity
               ('\x000000000000000000000000'),                                  -- 0 dimensions
               ('\x3b9aca01000000000000000000'),                                -- 1e9 + 1 dims
               ('\x3b9aca01000000000000000000000000'),                          -- 1e9 + 1 dims
               ('\x00000002000000030000000000'),                                -- nnz > dim
               ('\x0000000500000003000000000000000000'),                        -- nnz 3, truncated
               ('\x00000005ffffffff00000000'),                                  -- nnz -1
               ('\x3b9aca0000003e8100000000'),                                  -- nnz 16001
               ('\x000000050000000100000000000000003f80000000')                 -- trailing byte
       ) t(payload);
SELECT pg_temp.recv('\x00000005000000020000000000000000000000043fc0000040000000', 'sparsevec_recv3') AS typmod_ok,
       pg_temp.recv('\x000000070000000000000000', 'sparsevec_recv3') AS typmod_mismatch;
-- binary and text COPY round trips keep every value bit for bit
CREATE TABLE sparsevec_copy (id int, v sparsevec);
INSERT INTO sparsevec_copy
  SELECT i, ('{' || i || ':' || (i * 0.1)::real || ',' || (i + 7) || ':' || (-1.0 / i)::real
             || '}/1000')::sparsevec FROM generate_series(1, 100) i;
INSERT INTO sparsevec_copy VALUES (101, NULL), (102, '{}/1000000000');
SELECT '/tmp/ragstore_regress_sparsevec_copy_' || pg_backend_pid() AS copyfile \gset
COPY sparsevec_copy TO :'copyfile' (FORMAT binary);
CREATE TABLE sparsevec_copy2 (LIKE sparsevec_copy);
COPY sparsevec_copy2 FROM :'copyfile' (FORMAT binary);
SELECT count(*) AS rows, count(a.v) AS non_null,
       bool_and(sparsevec_send(a.v) IS NOT DISTINCT FROM sparsevec_send(b.v)) AS same_bytes
  FROM sparsevec_copy a FULL JOIN sparsevec_copy2 b USING (id);
TRUNCATE sparsevec_copy2;
COPY sparsevec_copy TO :'copyfile';
COPY sparsevec_copy2 FROM :'copyfile';
SELECT count(*) AS rows,
       bool_and(sparsevec_send(a.v) IS NOT DISTINCT FROM sparsevec_send(b.v)) AS same_bytes
  FROM sparsevec_copy a FULL JOIN sparsevec_copy2 b USING (id);
SELECT 'rm -f ' || :'copyfile' || ' /tmp/ragstore_regress_sparsevec_recv_' || pg_backend_pid()
       || '.bin' AS cleanup \gset
COPY (SELECT 1 WHERE false) TO PROGRAM :'cleanup';
DROP TABLE sparsevec_copy, sparsevec_copy2, sparsevec_recv, sparsevec_recv3;

-- distances: functions and operators agree; values checked by hand
-- a = (1,2,0), b = (0,1,3): l2^2 = 1+1+9 = 11, a.b = 2, l1 = 1+1+3 = 5
SELECT l2_distance('{1:1,2:2}/3'::sparsevec, '{2:1,3:3}/3'), '{1:1,2:2}/3'::sparsevec <-> '{2:1,3:3}/3',
       sparsevec_l2_squared_distance('{1:1,2:2}/3', '{2:1,3:3}/3');
SELECT inner_product('{1:1,2:2}/3'::sparsevec, '{2:1,3:3}/3'), '{1:1,2:2}/3'::sparsevec <#> '{2:1,3:3}/3',
       sparsevec_negative_inner_product('{1:1,2:2}/3', '{2:1,3:3}/3');
SELECT cosine_distance('{1:1}/2'::sparsevec, '{2:1}/2'), '{1:1,2:1}/2'::sparsevec <=> '{1:2,2:2}/2',
       '{1:1}/2'::sparsevec <=> '{1:-1}/2';
SELECT cosine_distance('{}/2'::sparsevec, '{1:1}/2'), cosine_distance('{}/2'::sparsevec, '{}/2');
SELECT l1_distance('{1:1,2:2}/3'::sparsevec, '{2:1,3:3}/3'), '{1:1,2:2}/3'::sparsevec <+> '{2:1,3:3}/3';
SELECT l2_distance('{}/3'::sparsevec, '{}/3'), inner_product('{1:1}/3'::sparsevec, '{2:1}/3');
-- huge dimensions cost nothing: only the non-zeros are visited
SELECT '{1:3,1000000000:4}/1000000000'::sparsevec <-> '{}/1000000000';
-- different dimensions are errors
SELECT f, pg_temp.try(format('SELECT %s(%L::sparsevec, %L::sparsevec)::text', f, '{1:1}/3', '{1:1}/2'))
  FROM unnest(ARRAY['l2_distance', 'inner_product', 'cosine_distance', 'l1_distance',
                    'sparsevec_l2_squared_distance', 'sparsevec_negative_inner_product']) f;
SELECT pg_temp.try($$SELECT ('{1:1}/3'::sparsevec <-> '{1:1}/2'::sparsevec)::text$$);
-- elements near the float limit overflow float32 accumulation, as in pgvector: Infinity for the
-- sums, NaN for a cosine whose product and norms overflow (or whose squares underflow to 0)
SELECT '{1:3e38,2:-3e38}/2'::sparsevec <-> '{1:-3e38,2:3e38}/2' AS l2,
       sparsevec_l2_squared_distance('{1:3e38}/2', '{1:-3e38}/2') AS l2_squared,
       inner_product('{1:3e38,2:3e38}/2'::sparsevec, '{1:3e38,2:3e38}/2') AS ip,
       '{1:3e38}/2'::sparsevec <#> '{1:3e38}/2' AS neg_ip,
       '{1:3e38,2:3e38}/2'::sparsevec <+> '{1:-3e38,2:-3e38}/2' AS l1;
SELECT cosine_distance('{1:3e38,2:3e38}/2'::sparsevec, '{1:3e38,2:3e38}/2') AS same,
       cosine_distance('{1:3e38}/2'::sparsevec, '{2:3e38}/2') AS orthogonal,
       cosine_distance('{1:1e-30,2:1e-30}/2'::sparsevec, '{1:1e-30}/2') AS tiny;
-- and they agree with vector's results on the same values
SELECT bool_and(pg_temp.try(format('SELECT %s(%L::sparsevec, %L::sparsevec)::text', f, a::sparsevec, b::sparsevec))
                = pg_temp.try(format('SELECT %s(%L::vector, %L::vector)::text', f, a, b))) AS same_as_vector
  FROM unnest(ARRAY['l2_distance', 'inner_product', 'cosine_distance', 'l1_distance']) f,
       (VALUES ('[3e38,-3e38]'::vector, '[-3e38,3e38]'::vector), ('[3e38,3e38]', '[3e38,3e38]'),
               ('[3e38,0]', '[0,3e38]'), ('[1e-30,1e-30]', '[1e-30,0]'), ('[0,0]', '[1,1]')) v(a, b);

-- norms
SELECT l2_norm('{1:3,2:4}/2'::sparsevec), l2_norm('{}/5'::sparsevec),
       l2_norm('{1:3e38,2:3e38}/2'::sparsevec);   -- accumulated in double
SELECT l2_normalize('{1:3,3:4}/5'::sparsevec), l2_normalize('{}/5'::sparsevec),
       l2_normalize('{2:-2}/2'::sparsevec);
SELECT l2_normalize('{1:1e-45,2:1e30}/2'::sparsevec);   -- a value that underflows is dropped

-- comparison: the order of the equivalent dense arrays (element by element, then dimension)
SELECT a, b, sparsevec_cmp(a, b) AS cmp, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne,
       a >= b AS ge, a > b AS gt
  FROM (VALUES ('{1:1,3:2}/3'::sparsevec, '{1:1,3:2}/3'::sparsevec), ('{1:1}/3', '{1:1,3:2}/3'),
               ('{1:1,3:2}/3', '{1:1}/3'), ('{1:1}/2', '{1:1}/3'), ('{2:1}/3', '{1:1}/3'),
               ('{2:-1}/3', '{}/3'), ('{3:1}/3', '{}/2'), ('{}/2', '{}/3'),
               ('{1:1}/3', '{1:1,2:-1}/3')) t(a, b);
SELECT sparsevec_lt('{1:1}/1', '{1:2}/1'), sparsevec_le('{1:2}/1', '{1:2}/1'),
       sparsevec_eq('{1:2}/1', '{1:2}/1'), sparsevec_ne('{1:2}/1', '{1:2}/1'),
       sparsevec_ge('{1:1}/1', '{1:2}/1'), sparsevec_gt('{1:3}/1', '{1:2}/1');
-- on random sparse vectors (seeded), the order agrees with the dense real[] order
SELECT setseed(0.25);
CREATE TEMP TABLE sparse_rand AS
  SELECT id, ('{' || coalesce(string_agg(i || ':' || v, ',') FILTER (WHERE v <> 0), '') || '}/' || dim)::sparsevec AS s
    FROM (SELECT id, 1 + (random() * 4)::int AS dim FROM generate_series(1, 60) id) d,
         LATERAL (SELECT i, (random() * 2)::int - 1 AS v FROM generate_series(1, dim) i) e
   GROUP BY id, dim;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE sparsevec_cmp(a.s, b.s) <> btarraycmp(a.s::vector::real[], b.s::vector::real[])) AS disagree
  FROM sparse_rand a, sparse_rand b;
CREATE TABLE sparsevec_cmp_t (id int, v sparsevec);
INSERT INTO sparsevec_cmp_t VALUES (1, '{1:1,3:2}/3'), (2, '{1:1}/2'), (3, '{2:5}/2'), (4, '{3:2,1:1}/3'),
  (5, '{1:1,3:2}/4'), (6, '{1:-1}/1'), (7, NULL), (8, '{}/3');
SELECT v, array_agg(id ORDER BY id) FROM sparsevec_cmp_t GROUP BY v ORDER BY v;
SELECT opc.opcname, opc.opcdefault FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE opc.opcintype = 'sparsevec'::regtype AND am.amname = 'btree';
CREATE INDEX sparsevec_cmp_t_v ON sparsevec_cmp_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM sparsevec_cmp_t WHERE v = '{1:1,3:2}/3';
SELECT id FROM sparsevec_cmp_t WHERE v = '{1:1,3:2}/3' ORDER BY id;
SELECT id FROM sparsevec_cmp_t WHERE v > '{1:1}/2' AND v <= '{1:1,3:2}/4' ORDER BY id;
RESET enable_seqscan;
DROP TABLE sparsevec_cmp_t;

-- casts with arrays (assignment): the dense array, zeros dropped
SELECT '{1,0,3}'::int[]::sparsevec, '{0,1.5,0}'::real[]::sparsevec, '{0.1,0}'::float8[]::sparsevec,
       '{0,0,2.5}'::numeric[]::sparsevec, '{0,0}'::int[]::sparsevec;
SELECT array_to_sparsevec('{1,2}'::int[], -1, true), array_to_sparsevec('{1,0}'::real[], 2, true),
       array_to_sparsevec('{0,2}'::float8[], -1, false), array_to_sparsevec('{1,2}'::numeric[], -1, true);
SELECT l2_norm(array_fill(1, ARRAY[16000])::sparsevec),
       l2_norm((array_fill(0, ARRAY[50000]) || ARRAY[2])::sparsevec);   -- > 16000 dims is fine
SELECT expr, left(pg_temp.try(format('SELECT (%s)::sparsevec::text', expr)), 70) AS result
  FROM unnest(ARRAY[$$'{{1,2},{3,4}}'::int[]$$, $$'{1,NULL,3}'::int[]$$, $$'{}'::int[]$$,
                    $$'{NaN,1}'::real[]$$, $$'{Infinity}'::real[]$$, $$'{1e39}'::float8[]$$,
                    $$'{4e38}'::numeric[]$$, $$'{NaN}'::numeric[]$$,
                    $$array_fill(1, ARRAY[16001])$$]) expr;
SELECT pg_temp.try($$SELECT ('{1,2}'::int[]::sparsevec(3))::text$$);
CREATE TABLE sparsevec_cast_t (v sparsevec(3));
INSERT INTO sparsevec_cast_t VALUES ('{1,0,3}'::int[]), (ARRAY[0, 0, 0.5]::float8[]);
INSERT INTO sparsevec_cast_t VALUES ('{1,2}'::int[]);
SELECT * FROM sparsevec_cast_t;
DROP TABLE sparsevec_cast_t;

-- catalog: every function on sparsevec is immutable, strict and parallel safe
SELECT count(*) AS functions,
       count(*) FILTER (WHERE provolatile <> 'i' OR NOT proisstrict OR proparallel <> 's') AS bad
  FROM pg_proc
 WHERE (prorettype = 'sparsevec'::regtype OR 'sparsevec'::regtype = ANY (proargtypes))
   AND prokind = 'f';

-- never a crash on garbage: seeded random strings over the text form's alphabet, and random
-- binary payloads with plausible headers; each input is either a clean error (22xxx / 54000 /
-- 08P01 / 22P03) or a value whose output reads back to itself
SELECT setseed(0.3);
CREATE TEMP TABLE fuzz_text AS
  SELECT CASE WHEN random() < 0.6   -- one random character replaced by another of the alphabet
              THEN overlay(s placing substr('{}:,/0123456789.-e +', 1 + (random() * 19)::int, 1)
                           from 1 + (random() * (length(s) - 1))::int for 1)
              ELSE s END AS s
    FROM (SELECT g, '{' || coalesce((SELECT string_agg((1 + random() * 5)::int || ':' || round((random() * 4 - 2)::numeric, 1), ',')
                                       FROM generate_series(1, (random() * 4)::int) WHERE g > 0), '')
                    || '}/' || (random() * 6)::int AS s
            FROM generate_series(1, 2000) g) t;
SELECT count(*) AS inputs, count(*) FILTER (WHERE r LIKE '{%') > 100 AS some_valid,
       count(*) FILTER (WHERE r NOT LIKE '{%' AND r !~ '^(22...|54000): ') AS unexpected,
       bool_and(r NOT LIKE '{%' OR pg_temp.try(format('SELECT %L::sparsevec::text', r)) = r) AS valid_round_trip
  FROM (SELECT pg_temp.try(format('SELECT %L::sparsevec::text', s)) AS r FROM fuzz_text) t;
CREATE TABLE sparsevec_fuzz (v sparsevec);
CREATE FUNCTION pg_temp.recv_all(payloads bytea[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  path text := '/tmp/ragstore_regress_sparsevec_fuzz_' || pg_backend_pid() || '.bin';
  p bytea;
  r text;
BEGIN
  FOREACH p IN ARRAY payloads LOOP
    BEGIN
      EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', p, path);
      TRUNCATE sparsevec_fuzz;
      EXECUTE format('COPY sparsevec_fuzz FROM %L (FORMAT binary)', path);
      SELECT v::text INTO r FROM sparsevec_fuzz;
      RETURN NEXT r;
    EXCEPTION WHEN OTHERS THEN
      RETURN NEXT SQLSTATE || ': ' || SQLERRM;
    END;
  END LOOP;
  EXECUTE format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', 'rm -f ' || path);
END $$;
SELECT setseed(0.6);
SELECT count(*) AS payloads, count(*) FILTER (WHERE r LIKE '{%') > 20 AS some_valid,
       count(*) FILTER (WHERE r NOT LIKE '{%' AND r !~ '^(22...|54000|08P01): ') AS unexpected
  FROM pg_temp.recv_all(ARRAY(
    SELECT int4send((random() * 6)::int - 1) || int4send(n) || int4send((random() < 0.9)::int - 1 + 1 - (random() < 0.9)::int)
           || coalesce((SELECT string_agg(int4send((random() * 6)::int - 1), ''::bytea) FROM generate_series(1, n) WHERE g > 0), '')
           || coalesce((SELECT string_agg(float4send(CASE WHEN random() < 0.1 THEN 0 ELSE (random() * 4 - 2)::real END), ''::bytea)
                          FROM generate_series(1, n + (random() < 0.1)::int) WHERE g > 0), '')
      FROM (SELECT g, (random() * 4)::int - 1 + (random() < 0.1)::int * 20000 AS n FROM generate_series(1, 200) g) h)) r;
DROP TABLE sparsevec_fuzz;
