-- vector: distances, functions, operators, comparison and the btree operator class, casts.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE sql INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- distances: functions and operators agree; values checked against hand computation
SELECT l2_distance('[0,0]'::vector, '[3,4]'), '[0,0]'::vector <-> '[3,4]',
       vector_l2_squared_distance('[0,0]', '[3,4]');
SELECT inner_product('[1,2,3]'::vector, '[4,5,6]'), '[1,2,3]'::vector <#> '[4,5,6]',
       vector_negative_inner_product('[1,2,3]', '[4,5,6]');
SELECT cosine_distance('[1,0]'::vector, '[0,1]'), '[1,1]'::vector <=> '[2,2]', '[1,0]'::vector <=> '[-1,0]';
SELECT cosine_distance('[0,0]'::vector, '[1,1]');        -- NaN for a zero vector
SELECT l1_distance('[1,2,3]'::vector, '[4,0,3]'), '[1,2,3]'::vector <+> '[4,0,3]';
SELECT round(vector_spherical_distance('[1,0]', '[0,1]')::numeric, 6) AS quarter,
       vector_spherical_distance('[1,0]', '[1,0]') AS same,
       vector_spherical_distance('[1,0]', '[-1,0]') AS opposite,
       vector_spherical_distance('[2,0]', '[3,0]') AS clamped;
-- float32 accumulation over many dimensions stays close to the exact double result
SELECT abs(l2_distance(a, b) - sqrt((SELECT sum((x - y)::float8 ^ 2)
                                      FROM unnest(a::real[], b::real[]) u(x, y)))) < 1e-3 AS l2_close,
       abs(inner_product(a, b) - (SELECT sum(x::float8 * y)
                                    FROM unnest(a::real[], b::real[]) u(x, y))) < 1e-3 AS ip_close
  FROM (SELECT array_agg(sin(i))::vector AS a, array_agg(cos(i * 0.7))::vector AS b
          FROM generate_series(1, 1536) i) t;
-- distances between vectors of different dimensions are errors
SELECT f, pg_temp.try(format('SELECT %s(%L::vector, %L::vector)::text', f, '[1,2,3]', '[1,2]'))
  FROM unnest(ARRAY['l2_distance', 'inner_product', 'cosine_distance', 'l1_distance',
                    'vector_l2_squared_distance', 'vector_negative_inner_product',
                    'vector_spherical_distance', 'vector_add', 'vector_sub', 'vector_mul']) f;
SELECT pg_temp.try($$SELECT ('[1,2,3]'::vector <-> '[1,2]')::text$$);
-- elements near the float limit overflow float32 accumulation, as in pgvector: Infinity for the
-- sums, NaN for a cosine whose product and norms overflow (or whose squares underflow to 0)
SELECT l2_distance('[3e38,-3e38]'::vector, '[-3e38,3e38]'), vector_l2_squared_distance('[3e38]', '[-3e38]');
SELECT inner_product('[3e38,3e38]'::vector, '[3e38,3e38]'), '[3e38,3e38]'::vector <#> '[3e38,3e38]';
SELECT l1_distance('[3e38,3e38]'::vector, '[-3e38,-3e38]'), '[3e38]'::vector <+> '[-3e38]';
SELECT cosine_distance('[3e38,3e38]'::vector, '[3e38,3e38]'), cosine_distance('[3e38,0]'::vector, '[0,3e38]'),
       cosine_distance('[1e-30,1e-30]'::vector, '[1e-30,0]') AS tiny;
SELECT vector_spherical_distance('[3e38]', '[3e38]');

-- dims and norm
SELECT vector_dims('[1,2,3]'::vector), vector_dims('[1]'::vector), vector_norm('[3,4]'), vector_norm('[0,0]');
SELECT vector_norm('[3e38,3e38]');               -- accumulated in double, no overflow

-- l2_normalize
SELECT l2_normalize('[3,4]'::vector), l2_normalize('[0,0,0]'::vector), l2_normalize('[-2]'::vector);
SELECT abs(vector_norm(l2_normalize('[1,2,3,4,5]'::vector)) - 1) < 1e-6 AS unit;
SELECT l2_normalize('[3e38,3e38]'::vector), l2_normalize('[1e-40,1e-40]'::vector);
SELECT l2_normalize('[1e-45,0]'::vector);

-- binary_quantize: bit(n), 1 where the element is > 0
SELECT binary_quantize('[1,0,-1]'::vector);
SELECT binary_quantize('[1,-2,3,4,-5,6,7,-8,0.5,0]'::vector), pg_typeof(binary_quantize('[1]'::vector));
SELECT length(binary_quantize(array_fill(1, ARRAY[16000])::vector)),
       bit_count(binary_quantize(array_fill(1, ARRAY[16000])::vector));

-- subvector: 1-based, clipped like substring; an empty result is an error
SELECT subvector('[1,2,3,4,5]'::vector, 1, 3), subvector('[1,2,3,4,5]'::vector, 3, 2), subvector('[1,2,3,4,5]'::vector, 4, 10),
       subvector('[1,2,3,4,5]'::vector, 0, 2), subvector('[1,2,3,4,5]'::vector, -5, 8), subvector('[1,2,3,4,5]'::vector, 5, 1),
       subvector('[1,2,3,4,5]'::vector, 2, 2147483647);
SELECT args, pg_temp.try(format('SELECT subvector(%L::vector, %s)::text', '[1,2,3,4,5]', args))
  FROM unnest(ARRAY['6, 1', '1, 0', '2, -1', '-5, 6', '0, 1', '-2147483648, 2147483647',
                    '2147483647, 2147483647', '2147483647, 1']) args;

-- arithmetic: element-wise, overflow is an error
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]', '[1]'::vector || '[2]' || '[3,4]';
SELECT expr, left(pg_temp.try(format('SELECT (%s)::text', expr)), 60) AS result
  FROM unnest(ARRAY[$$'[3e38]'::vector + '[3e38]'$$, $$'[-3e38]'::vector - '[3e38]'$$,
                    $$'[1e38]'::vector * '[10]'$$, $$'[1e-30]'::vector * '[1e-30]'$$,
                    $$'[1,2]'::vector + '[1]'$$, $$'[1,2]'::vector * '[1,2,3]'$$,
                    $$array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8000])::vector$$,
                    $$array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8001])::vector$$]) expr;
SELECT vector_dims(array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8000])::vector);
SELECT vector_add('[1,2]', '[3,4]'), vector_sub('[1,2]', '[3,4]'), vector_mul('[1,2]', '[3,4]'),
       vector_concat('[1,2]', '[3,4]');

-- comparison: element by element, then the shorter first (like real[])
SELECT a, b, vector_cmp(a, b) AS cmp, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne,
       a >= b AS ge, a > b AS gt, vector_cmp(a, b) = btarraycmp(a::real[], b::real[]) AS like_real_array
  FROM (VALUES ('[1,2,3]'::vector, '[1,2,3]'::vector), ('[1,2,3]', '[1,2,4]'), ('[1,2,4]', '[1,2,3]'),
               ('[1,2]', '[1,2,3]'), ('[1,2,3]', '[1,2]'), ('[1,3]', '[1,2,3]'), ('[0]', '[-0]'),
               ('[-1]', '[1]')) t(a, b);
SELECT vector_lt('[1]', '[2]'), vector_le('[2]', '[2]'), vector_eq('[2]', '[2]'),
       vector_ne('[2]', '[2]'), vector_ge('[1]', '[2]'), vector_gt('[3]', '[2]');
-- the btree operator class: ORDER BY, DISTINCT, GROUP BY, merge joins and a btree index
CREATE TABLE vector_cmp_t (id int, v vector);
INSERT INTO vector_cmp_t VALUES (1, '[1,2,3]'), (2, '[1,2]'), (3, '[0,5]'), (4, '[1,2,3]'),
  (5, '[1,2,3,0]'), (6, '[-1]'), (7, NULL), (8, '[1,10]');
SELECT v, array_agg(id ORDER BY id) FROM vector_cmp_t GROUP BY v ORDER BY v;
SELECT DISTINCT v FROM vector_cmp_t ORDER BY v DESC NULLS LAST;
SELECT opc.opcname, opc.opcdefault, am.amname FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
 WHERE opc.opcintype = 'vector'::regtype AND am.amname = 'btree';
CREATE INDEX vector_cmp_t_v ON vector_cmp_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM vector_cmp_t WHERE v = '[1,2,3]';
SELECT id FROM vector_cmp_t WHERE v = '[1,2,3]' ORDER BY id;
SELECT id FROM vector_cmp_t WHERE v > '[1,2]' AND v <= '[1,2,3,0]' ORDER BY id;
RESET enable_seqscan;
SET enable_hashjoin = off;
SET enable_nestloop = off;
SELECT a.id, b.id FROM vector_cmp_t a JOIN vector_cmp_t b ON a.v = b.v WHERE a.id < b.id;
RESET enable_hashjoin;
RESET enable_nestloop;
DROP TABLE vector_cmp_t;

-- casts with arrays (assignment for arrays -> vector, implicit vector -> real[])
SELECT '{1,2,3}'::int[]::vector, '{1.5,2.25}'::real[]::vector, '{0.1,1e-7}'::float8[]::vector,
       '{1.5,123456789,0.1}'::numeric[]::vector;
SELECT array_to_vector('{1,2}'::int[], -1, true), array_to_vector('{1,2}'::real[], 2, true),
       array_to_vector('{1,2}'::float8[], -1, false), array_to_vector('{1,2}'::numeric[], -1, true);
SELECT '{1,2,3}'::int[]::vector(3), ARRAY[1.0, 2.0]::vector(2);
SELECT '[1,2,3]'::vector::real[], pg_typeof('[1,2,3]'::vector::real[]), vector_to_float4('[4,5]', -1, false);
SELECT array_upper('[1,2,3]'::vector::real[], 1), array_lower('[1,2,3]'::vector::real[], 1);
SELECT castcontext, castsource::regtype, casttarget::regtype FROM pg_cast
 WHERE castsource = 'vector'::regtype OR casttarget = 'vector'::regtype ORDER BY 2::text, 3::text;
-- the cast to real[] is implicit: array functions take a vector directly
CREATE FUNCTION pg_temp.real_sum(real[]) RETURNS float8 LANGUAGE sql AS $$SELECT sum(x) FROM unnest($1) x$$;
SELECT pg_temp.real_sum('[1,2,3.5]'::vector);
-- assignment casts in INSERT
CREATE TABLE vector_cast_t (v vector(3));
INSERT INTO vector_cast_t VALUES ('{1,2,3}'::int[]), (ARRAY[1.5, 2, 3]::float8[]), (ARRAY[1,2,3]::numeric[]);
INSERT INTO vector_cast_t VALUES ('{1,2}'::int[]);
SELECT * FROM vector_cast_t;
DROP TABLE vector_cast_t;
-- invalid arrays
SELECT expr, left(pg_temp.try(format('SELECT (%s)::vector::text', expr)), 60) AS result
  FROM unnest(ARRAY[$$'{{1,2},{3,4}}'::int[]$$, $$'{1,NULL,3}'::int[]$$, $$'{}'::int[]$$,
                    $$'{NaN,1}'::real[]$$, $$'{Infinity}'::real[]$$, $$'{-Infinity}'::float8[]$$,
                    $$'{NaN}'::float8[]$$, $$'{1e39}'::float8[]$$, $$'{-4e38,1}'::float8[]$$,
                    $$'{1e-50}'::float8[]$$, $$'{NaN}'::numeric[]$$, $$'{Infinity}'::numeric[]$$,
                    $$'{4e38}'::numeric[]$$, $$'{1e-50}'::numeric[]$$,
                    $$'{{1}}'::real[]$$, $$'{NULL}'::float8[]$$,
                    $$array_fill(1, ARRAY[16001])$$, $$array_fill(1.5::float8, ARRAY[16000])$$,
                    $$'[2:3]={7,8}'::int[]$$]) expr;
SELECT pg_temp.try($$SELECT ('{1,2}'::int[]::vector(3))::text$$);
-- numeric goes through its decimal text: rounded once, exactly like the text input
SELECT ARRAY[0.1, 16777217, 1.00000005960464477539062500001]::numeric[]::vector
     = '[0.1,16777217,1.00000005960464477539062500001]'::vector AS same_rounding;
