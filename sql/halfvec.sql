-- halfvec: I/O (text, binary), rounding to binary16, typmod, distances, functions, operators,
-- comparison and btree halfvec_ops, aggregates (serial and parallel), array casts, catalog.
-- pg_temp.try(sql) runs one statement and returns its result, or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE sql INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- valid text input; each element is rounded to the nearest half, ties to even
SELECT input, pg_temp.try(format('SELECT %L::halfvec::text', input)) AS result
  FROM (VALUES ('[1,2,3]'), (' [ 1,  2 ,    3  ] '), (E'\t[\n1,\r2\t]\n'),
               ('[1.,1e-3,-0.5,+2,-0]'),
               ('[0.1,0.2,0.3]'),            -- not representable: nearest half
               ('[65504,-65504]'),           -- the largest halves
               ('[65519.99]'),               -- just below the midpoint to 65536: 65504
               ('[2049,2051,2050]'),         -- ties at spacing 2: to even (2048, 2052, 2050)
               ('[1.00048828125]'),          -- 1 + 2^-11, a tie: to even (1)
               ('[1.0005]'),                 -- above the tie: 1 + 2^-10
               ('[6.1035156e-05]'),          -- 2^-14, the smallest normal
               ('[5.9604645e-08]'),          -- 2^-24, the smallest subnormal
               ('[2.9802322e-08]'),          -- 2^-25, a tie between 0 and 2^-24: to 0
               ('[3e-08]'),                  -- just above: 2^-24
               ('[1e-8,-1e-8,1e-30]'),       -- underflow to (signed) zero
               ('[1e-50]')) t(input);

-- invalid text input: NaN, infinities, beyond the half range after rounding, syntax
SELECT input, pg_temp.try(format('SELECT %L::halfvec::text', input)) AS result
  FROM (VALUES ('[NaN,1]'), ('[Infinity]'), ('[-inf]'), ('[65520]'), ('[-65520]'), ('[1e5]'),
               ('[4e38,1]'), ('[1,2,3]x'), ('1,2,3'), ('[1,2,3'), ('[]'), ('[1,,3]'), ('[1,2,]'),
               ('[1 2]'), ('[1,a]'), (''), ('[')) t(input);
\set VERBOSITY default
SELECT '[65520]'::halfvec;
SELECT '[1,2,3]x'::halfvec;
\set VERBOSITY terse

-- dimensions: 16000 is the maximum
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::halfvec);
SELECT pg_temp.try(format('SELECT %L::halfvec::text',
                          '[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']'));

-- typmod
SELECT input, pg_temp.try(format('SELECT %s::text', input)) AS result
  FROM (VALUES ($$'[1,2,3]'::halfvec(3)$$), ($$'[1,2]'::halfvec(3)$$),
               ($$'[1,2,3]'::halfvec::halfvec(2)$$), ($$'[1,2,3]'::halfvec(16000)$$),
               ($$'[1,2,3]'::halfvec(16001)$$), ($$'[1,2,3]'::halfvec(0)$$),
               ($$'[1,2,3]'::halfvec(3, 2)$$), ($$halfvec('[1,2]', 2, true)$$),
               ($$halfvec('[1,2]', 3, true)$$)) t(input);
CREATE TABLE halfvec_typmod (v halfvec(3));
INSERT INTO halfvec_typmod VALUES ('[1,2,3]');
INSERT INTO halfvec_typmod VALUES ('[1,2]');
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'halfvec_typmod'::regclass AND attname = 'v';
SELECT * FROM halfvec_typmod;
DROP TABLE halfvec_typmod;

-- binary send: int16 dim, int16 unused, dim binary16, network byte order
SELECT halfvec_send('[1,2,3]');
SELECT halfvec_send('[-0.5,65504,5.9604645e-08,-0]');

-- binary recv, through binary COPY of a bytea (the field bytes are handed to halfvec_recv)
CREATE TABLE halfvec_recv (v halfvec);
CREATE TABLE halfvec_recv3 (v halfvec(3));
CREATE FUNCTION pg_temp.recv(payload bytea, tab text DEFAULT 'halfvec_recv') RETURNS text
  LANGUAGE plpgsql AS $$
DECLARE
  path text := '/tmp/ragstore_regress_halfvec_recv_' || pg_backend_pid() || '.bin';
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
  FROM (VALUES ('\x000300003c0040004200'),   -- [1,2,3]
               ('\x000200000001fbff'),       -- smallest subnormal, -65504
               ('\x000300013c0040004200'),   -- unused = 1
               ('\x0003'),                   -- truncated header
               ('\x00000000'),               -- 0 dimensions
               ('\xffff0000'),               -- -1 dimensions
               ('\x3e810000'),               -- 16001 dimensions
               ('\x000200003c007e00'),       -- NaN
               ('\x000200003c007c01'),       -- signalling NaN
               ('\x000200003c007c00'),       -- Infinity
               ('\x00020000fc003c00'),       -- -Infinity
               ('\x000300003c004000'),       -- fewer values than dim
               ('\x000100003c004000')        -- trailing bytes
       ) t(payload);
SELECT pg_temp.recv('\x000300003c0040004200', 'halfvec_recv3') AS typmod_ok,
       pg_temp.recv('\x000200003c004000', 'halfvec_recv3') AS typmod_mismatch;
-- binary and text COPY round trips keep every value bit for bit
CREATE TABLE halfvec_copy (id int, v halfvec);
INSERT INTO halfvec_copy
  SELECT i, ARRAY[i, -i * 0.1, 1.0 / i, i * 1e-6]::real[]::halfvec FROM generate_series(1, 100) i;
INSERT INTO halfvec_copy VALUES (101, NULL),
  (102, ('[' || array_to_string(array_fill(0.25, ARRAY[16000]), ',') || ']')::halfvec);
SELECT '/tmp/ragstore_regress_halfvec_copy_' || pg_backend_pid() AS copyfile \gset
COPY halfvec_copy TO :'copyfile' (FORMAT binary);
CREATE TABLE halfvec_copy2 (LIKE halfvec_copy);
COPY halfvec_copy2 FROM :'copyfile' (FORMAT binary);
SELECT count(*) AS rows, count(a.v) AS non_null,
       bool_and(halfvec_send(a.v) IS NOT DISTINCT FROM halfvec_send(b.v)) AS same_bytes
  FROM halfvec_copy a FULL JOIN halfvec_copy2 b USING (id);
TRUNCATE halfvec_copy2;
COPY halfvec_copy TO :'copyfile';
COPY halfvec_copy2 FROM :'copyfile';
SELECT count(*) AS rows,
       bool_and(halfvec_send(a.v) IS NOT DISTINCT FROM halfvec_send(b.v)) AS same_bytes
  FROM halfvec_copy a FULL JOIN halfvec_copy2 b USING (id);
SELECT 'rm -f ' || :'copyfile' || ' /tmp/ragstore_regress_halfvec_recv_' || pg_backend_pid()
       || '.bin' AS cleanup \gset
COPY (SELECT 1 WHERE false) TO PROGRAM :'cleanup';
DROP TABLE halfvec_copy, halfvec_copy2, halfvec_recv, halfvec_recv3;
-- every one of the 63,488 finite halves prints and reads back to itself (text round trip)
SELECT count(*) AS finite_halves,
       bool_and(halfvec_send(h::text::halfvec) = halfvec_send(h)) AS text_round_trip
  FROM (SELECT ('\x00010000' || lpad(to_hex(b), 4, '0'))::bytea AS payload
          FROM generate_series(0, 65535) b
         WHERE (b & 31744) <> 31744) p,   -- exponent bits all ones: Inf/NaN
       LATERAL (SELECT ('[' || (CASE WHEN get_byte(payload, 4) >= 128 THEN -1 ELSE 1 END *
                  CASE WHEN (get_byte(payload, 4) & 124) = 0
                       THEN ((get_byte(payload, 4) & 3) * 256 + get_byte(payload, 5)) * 2.0 ^ -24
                       ELSE (1024 + (get_byte(payload, 4) & 3) * 256 + get_byte(payload, 5))
                            * 2.0 ^ (((get_byte(payload, 4) & 124) >> 2) - 25) END)::text
                  || ']')::halfvec AS h) v;

-- distances: functions and operators agree; values checked by hand
SELECT l2_distance('[0,0]'::halfvec, '[3,4]'), '[0,0]'::halfvec <-> '[3,4]',
       halfvec_l2_squared_distance('[0,0]', '[3,4]');
SELECT inner_product('[1,2,3]'::halfvec, '[4,5,6]'), '[1,2,3]'::halfvec <#> '[4,5,6]',
       halfvec_negative_inner_product('[1,2,3]', '[4,5,6]');
SELECT cosine_distance('[1,0]'::halfvec, '[0,1]'), '[1,1]'::halfvec <=> '[2,2]',
       '[1,0]'::halfvec <=> '[-1,0]';
SELECT cosine_distance('[0,0]'::halfvec, '[1,1]');      -- NaN for a zero vector
SELECT l1_distance('[1,2,3]'::halfvec, '[4,0,3]'), '[1,2,3]'::halfvec <+> '[4,0,3]';
SELECT round(halfvec_spherical_distance('[1,0]', '[0,1]')::numeric, 6) AS quarter,
       halfvec_spherical_distance('[1,0]', '[1,0]') AS same,
       halfvec_spherical_distance('[1,0]', '[-1,0]') AS opposite,
       halfvec_spherical_distance('[2,0]', '[3,0]') AS clamped;
-- the largest halves: no overflow (float32 accumulation has room for 16000 * (2 * 65504)^2)
SELECT l2_distance(a, b), inner_product(a, a), l1_distance(a, b)
  FROM (SELECT array_fill(65504, ARRAY[16000])::halfvec AS a,
               array_fill(-65504, ARRAY[16000])::halfvec AS b) t;
-- different dimensions are errors
SELECT f, pg_temp.try(format('SELECT %s(%L::halfvec, %L::halfvec)::text', f, '[1,2,3]', '[1,2]'))
  FROM unnest(ARRAY['l2_distance', 'inner_product', 'cosine_distance', 'l1_distance',
                    'halfvec_l2_squared_distance', 'halfvec_negative_inner_product',
                    'halfvec_spherical_distance', 'halfvec_add', 'halfvec_sub', 'halfvec_mul',
                    'halfvec_cmp']) f;
SELECT pg_temp.try($$SELECT ('[1,2,3]'::halfvec <-> '[1,2]'::halfvec)::text$$);
-- many dimensions: the kernels (F16C when available) agree with a double computation
SELECT abs(l2_distance(a, b) - sqrt((SELECT sum((x - y)::float8 ^ 2)
                                      FROM unnest(a::real[], b::real[]) u(x, y)))) < 1e-3 AS l2_close,
       abs(inner_product(a, b) - (SELECT sum(x::float8 * y)
                                    FROM unnest(a::real[], b::real[]) u(x, y))) < 1e-3 AS ip_close,
       abs(l1_distance(a, b) - (SELECT sum(abs(x::float8 - y))
                                  FROM unnest(a::real[], b::real[]) u(x, y))) < 1e-3 AS l1_close
  FROM (SELECT array_agg(sin(i))::halfvec AS a, array_agg(cos(i * 0.7))::halfvec AS b
          FROM generate_series(1, 1537) i) t;

-- dims and norm
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), l2_norm('[0,0]'::halfvec);
SELECT l2_norm(array_fill(65504, ARRAY[4])::halfvec);

-- l2_normalize: rounded to half; a zero vector stays zero
SELECT l2_normalize('[3,4]'::halfvec), l2_normalize('[0,0,0]'::halfvec),
       l2_normalize('[-2]'::halfvec), l2_normalize('[65504,65504]'::halfvec);
SELECT abs(l2_norm(l2_normalize('[1,2,3,4,5]'::halfvec)) - 1) < 1e-3 AS unit;

-- binary_quantize: bit(n), 1 where the element is > 0
SELECT binary_quantize('[1,0,-1]'::halfvec), binary_quantize('[1,-2,3,4,-5,6,7,-8,0.5,0,1e-8]'::halfvec);

-- subvector: 1-based, clipped like substring; an empty result is an error
SELECT subvector('[1,2,3,4,5]'::halfvec, 1, 3), subvector('[1,2,3,4,5]'::halfvec, 4, 10),
       subvector('[1,2,3,4,5]'::halfvec, -5, 8), subvector('[1,2,3,4,5]'::halfvec, 2, 2147483647);
SELECT args, pg_temp.try(format('SELECT subvector(%L::halfvec, %s)::text', '[1,2,3,4,5]', args))
  FROM unnest(ARRAY['6, 1', '1, 0', '-5, 6', '2147483647, 1']) args;

-- arithmetic in float32, rounded to half: overflow beyond 65504, underflow of products
SELECT '[1,2,3]'::halfvec + '[4,5,6]', '[1,2,3]'::halfvec - '[4,5,6]', '[1,2,3]'::halfvec * '[4,5,6]';
SELECT '[0.1]'::halfvec + '[0.2]' AS rounded, '[1,2]'::halfvec || '[3]', pg_typeof('[1]'::halfvec || '[2]');
SELECT halfvec_add('[1,2]', '[3,4]'), halfvec_sub('[1,2]', '[3,4]'), halfvec_mul('[1,2]', '[3,4]'),
       halfvec_concat('[1,2]', '[3,4]');
SELECT expr, pg_temp.try(format('SELECT (%s)::text', expr)) AS result
  FROM unnest(ARRAY[$$'[60000]'::halfvec + '[60000]'$$, $$'[-60000]'::halfvec - '[60000]'$$,
                    $$'[300]'::halfvec * '[300]'$$, $$'[0.0001]'::halfvec * '[0.0001]'$$, $$'[0.001]'::halfvec * '[0.0001]'$$,
                    $$'[0]'::halfvec * '[0.0001]'$$, $$'[65504]'::halfvec + '[15]'$$,
                    $$array_fill(1, ARRAY[8000])::halfvec || array_fill(2, ARRAY[8000])::halfvec$$,
                    $$array_fill(1, ARRAY[8000])::halfvec || array_fill(2, ARRAY[8001])::halfvec$$]) expr
 WHERE expr NOT LIKE 'array_fill%' OR pg_temp.try(format('SELECT (%s)::text', expr)) NOT LIKE '[%';
SELECT vector_dims(array_fill(1, ARRAY[8000])::halfvec || array_fill(2, ARRAY[8000])::halfvec);

-- comparison: element by element, then the shorter first (like real[])
SELECT a, b, halfvec_cmp(a, b) AS cmp, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne,
       a >= b AS ge, a > b AS gt,
       halfvec_cmp(a, b) = btarraycmp(a::real[], b::real[]) AS like_real_array
  FROM (VALUES ('[1,2,3]'::halfvec, '[1,2,3]'::halfvec), ('[1,2,3]', '[1,2,4]'), ('[1,2,4]', '[1,2,3]'),
               ('[1,2]', '[1,2,3]'), ('[1,2,3]', '[1,2]'), ('[1,3]', '[1,2,3]'), ('[0]', '[-0]'),
               ('[-1]', '[1]'), ('[0.1]', '[0.09997]')) t(a, b);
SELECT halfvec_lt('[1]', '[2]'), halfvec_le('[2]', '[2]'), halfvec_eq('[2]', '[2]'),
       halfvec_ne('[2]', '[2]'), halfvec_ge('[1]', '[2]'), halfvec_gt('[3]', '[2]');
CREATE TABLE halfvec_cmp_t (id int, v halfvec);
INSERT INTO halfvec_cmp_t VALUES (1, '[1,2,3]'), (2, '[1,2]'), (3, '[0,5]'), (4, '[1,2,3]'),
  (5, '[1,2,3,0]'), (6, '[-1]'), (7, NULL), (8, '[1,10]'), (9, '[1.0001,2,3]');
SELECT v, array_agg(id ORDER BY id) FROM halfvec_cmp_t GROUP BY v ORDER BY v;
SELECT opc.opcname, opc.opcdefault FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE opc.opcintype = 'halfvec'::regtype AND am.amname = 'btree';
CREATE INDEX halfvec_cmp_t_v ON halfvec_cmp_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM halfvec_cmp_t WHERE v = '[1,2,3]';
SELECT id FROM halfvec_cmp_t WHERE v = '[1,2,3]' ORDER BY id;
SELECT id FROM halfvec_cmp_t WHERE v > '[1,2]' AND v <= '[1,2,3,0]' ORDER BY id;
RESET enable_seqscan;
DROP TABLE halfvec_cmp_t;

-- aggregates
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::halfvec), ('[3,5,7]')) t(v);
SELECT avg(v), sum(v), count(v) FROM (VALUES ('[1,2]'::halfvec), (NULL), ('[2,4]'), (NULL)) t(v);
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null
  FROM (SELECT '[1]'::halfvec AS v WHERE false) t;
SELECT pg_typeof(avg(v)), pg_typeof(sum(v)) FROM (VALUES ('[1]'::halfvec)) t(v);
-- avg accumulates in double and rounds once: the mean of halves is exact here
SELECT avg(v) FROM (SELECT '[0.1,60000]'::halfvec AS v FROM generate_series(1, 1000)) t;
SELECT pg_temp.try($$SELECT avg(v)::text FROM (VALUES ('[1,2]'::halfvec), ('[1,2,3]')) t(v)$$);
SELECT pg_temp.try($$SELECT sum(v)::text FROM (VALUES ('[1,2]'::halfvec), ('[1,2,3]')) t(v)$$);
SELECT pg_temp.try($$SELECT sum(v)::text FROM (VALUES ('[40000]'::halfvec), ('[40000]')) t(v)$$);
SELECT halfvec_accum('{0}', '[1,2]'), halfvec_accum('{1,1,2}', '[3,4]');
SELECT halfvec_combine('{0}', '{2,4,6}'), halfvec_combine('{1,1,2}', '{2,4,6}');
SELECT halfvec_avg('{2,4,6}'), halfvec_avg('{0}') IS NULL AS no_rows;
SELECT aggfnoid::regprocedure, aggtransfn, aggcombinefn, aggfinalfn, aggtranstype::regtype,
       agginitval, proparallel
  FROM pg_aggregate JOIN pg_proc ON pg_proc.oid = aggfnoid
 WHERE aggfnoid::regprocedure::text IN ('avg(halfvec)', 'sum(halfvec)') ORDER BY 1::text;
-- parallel aggregation (partial aggregates in two workers, combined) equals the serial result
CREATE TABLE halfvec_agg_t (id int, v halfvec(3));
INSERT INTO halfvec_agg_t
  SELECT i, ARRAY[i % 7, (i % 13) * 0.5, -(i % 5)]::real[]::halfvec FROM generate_series(1, 60000) i;
INSERT INTO halfvec_agg_t VALUES (0, NULL);
ANALYZE halfvec_agg_t;
CREATE TEMP TABLE serial_result AS SELECT avg(v) AS a, count(v) AS n FROM halfvec_agg_t;
-- sum() adds in half precision (as pgvector): exact for small sums (the first 100 rows)
SELECT sum(v) FROM halfvec_agg_t WHERE id <= 100;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM halfvec_agg_t;
CREATE TEMP TABLE parallel_result AS SELECT avg(v) AS a, count(v) AS n FROM halfvec_agg_t;
SELECT s.a = p.a AS same_avg, s.n = p.n AS same_count, p.a FROM serial_result s, parallel_result p;
RESET ALL;
DROP TABLE halfvec_agg_t;

-- casts with arrays: arrays -> halfvec (assignment), halfvec -> real[] (assignment)
SELECT '{1,2,3}'::int[]::halfvec, '{1.5,0.1}'::real[]::halfvec, '{0.1,1e-8}'::float8[]::halfvec,
       '{1.5,65504,0.1}'::numeric[]::halfvec;
SELECT array_to_halfvec('{1,2}'::int[], -1, true), array_to_halfvec('{1,2}'::real[], 2, true),
       array_to_halfvec('{1,2}'::float8[], -1, false), array_to_halfvec('{1,2}'::numeric[], -1, true);
SELECT '[1,2,0.1]'::halfvec::real[], halfvec_to_float4('[4,5]', -1, false);
SELECT expr, left(pg_temp.try(format('SELECT (%s)::halfvec::text', expr)), 70) AS result
  FROM unnest(ARRAY[$$'{{1,2},{3,4}}'::int[]$$, $$'{1,NULL,3}'::int[]$$, $$'{}'::int[]$$,
                    $$'{NaN,1}'::real[]$$, $$'{Infinity}'::real[]$$, $$'{70000}'::int[]$$,
                    $$'{65520}'::real[]$$, $$'{-1e5}'::float8[]$$, $$'{1e39}'::float8[]$$,
                    $$'{65536}'::numeric[]$$, $$'{NaN}'::numeric[]$$,
                    $$array_fill(1, ARRAY[16001])$$]) expr;
SELECT pg_temp.try($$SELECT ('{1,2}'::int[]::halfvec(3))::text$$);
CREATE TABLE halfvec_cast_t (v halfvec(3), r real[]);
INSERT INTO halfvec_cast_t (v) VALUES ('{1,2,3}'::int[]), (ARRAY[1.5, 2, 3]::float8[]);
INSERT INTO halfvec_cast_t (r) VALUES ('[7,8,9]'::halfvec);   -- assignment cast to real[]
SELECT * FROM halfvec_cast_t;
DROP TABLE halfvec_cast_t;

-- catalog: every function on halfvec is immutable, strict and parallel safe
SELECT count(*) AS functions,
       count(*) FILTER (WHERE provolatile <> 'i' OR NOT proisstrict OR proparallel <> 's') AS bad
  FROM pg_proc
 WHERE (prorettype = 'halfvec'::regtype OR 'halfvec'::regtype = ANY (proargtypes))
   AND prokind = 'f';

-- never a crash on garbage: seeded random strings over the text form's alphabet, and random
-- binary payloads; each input is either a clean error or a value whose output reads back to itself
SELECT setseed(0.3);
CREATE TEMP TABLE fuzz_text AS
  SELECT CASE WHEN random() < 0.6   -- one random character replaced by another of the alphabet
              THEN overlay(s placing substr('[],0123456789.-e+ n', 1 + (random() * 18)::int, 1)
                           from 1 + (random() * (length(s) - 1))::int for 1)
              ELSE s END AS s
    FROM (SELECT g, '[' || (SELECT string_agg(round((random() * 200 - 100)::numeric, (random() * 3)::int)::text
                                              || CASE WHEN random() < 0.2 THEN 'e' || (random() * 12 - 6)::int ELSE '' END, ',')
                              FROM generate_series(1, 1 + (random() * 4)::int) WHERE g > 0) || ']' AS s
            FROM generate_series(1, 2000) g) t;
SELECT count(*) AS inputs, count(*) FILTER (WHERE r LIKE '[%') > 100 AS some_valid,
       count(*) FILTER (WHERE r NOT LIKE '[%' AND r !~ '^(22...|54000): ') AS unexpected,
       bool_and(r NOT LIKE '[%' OR pg_temp.try(format('SELECT %L::halfvec::text', r)) = r) AS valid_round_trip
  FROM (SELECT pg_temp.try(format('SELECT %L::halfvec::text', s)) AS r FROM fuzz_text) t;
CREATE TABLE halfvec_fuzz (v halfvec);
CREATE FUNCTION pg_temp.recv_all(payloads bytea[]) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  path text := '/tmp/ragstore_regress_halfvec_fuzz_' || pg_backend_pid() || '.bin';
  p bytea;
  r text;
BEGIN
  FOREACH p IN ARRAY payloads LOOP
    BEGIN
      EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)', p, path);
      TRUNCATE halfvec_fuzz;
      EXECUTE format('COPY halfvec_fuzz FROM %L (FORMAT binary)', path);
      SELECT v::text INTO r FROM halfvec_fuzz;
      RETURN NEXT r;
    EXCEPTION WHEN OTHERS THEN
      RETURN NEXT SQLSTATE || ': ' || SQLERRM;
    END;
  END LOOP;
  EXECUTE format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', 'rm -f ' || path);
END $$;
SELECT setseed(0.6);
SELECT count(*) AS payloads, count(*) FILTER (WHERE r LIKE '[%') > 20 AS some_valid,
       count(*) FILTER (WHERE r NOT LIKE '[%' AND r !~ '^(22...|54000|08P01): ') AS unexpected
  FROM pg_temp.recv_all(ARRAY(
    SELECT substr(int4send(n), 3, 2) || substr(int4send((random() < 0.9)::int - 1 + 1 - (random() < 0.9)::int), 3, 2)
           || coalesce((SELECT string_agg(substr(int4send((random() * 65535)::int), 3, 2), ''::bytea)
                          FROM generate_series(1, n + (random() < 0.1)::int) WHERE g > 0), '')
      FROM (SELECT g, (random() * 5)::int - 1 + (random() < 0.05)::int * 16001 AS n FROM generate_series(1, 200) g) h)) r;
DROP TABLE halfvec_fuzz;
