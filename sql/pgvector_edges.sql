-- Values and errors at the edges, as pgvector 0.8 computes and reports them: distances that
-- overflow float32 accumulation, input that underflows, array casts of values beyond float4,
-- aggregate states of the wrong length, index methods on bit varying, and the errors of index
-- creation (messages and SQLSTATEs).
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE sql INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- distances accumulate in float32 and are widened to double at the end: elements near the
-- float limit give Infinity (and NaN for cosine, Infinity / Infinity), never an error
SELECT l2_distance('[3e38]'::vector, '[-3e38]') AS l2,
       vector_l2_squared_distance('[3e38]', '[-3e38]') AS l2_squared,
       inner_product('[3e38]'::vector, '[3e38]') AS ip,
       '[3e38]'::vector <#> '[3e38]' AS neg_ip,
       cosine_distance('[3e38]'::vector, '[3e38]') AS cosine,
       l1_distance('[3e38]'::vector, '[-3e38]') AS l1,
       vector_spherical_distance('[3e38]', '[3e38]') AS spherical;
SELECT l2_distance('{1:3e38}/1'::sparsevec, '{1:-3e38}/1') AS l2,
       sparsevec_l2_squared_distance('{1:3e38}/1', '{1:-3e38}/1') AS l2_squared,
       inner_product('{1:3e38}/1'::sparsevec, '{1:3e38}/1') AS ip,
       '{1:3e38}/1'::sparsevec <#> '{1:3e38}/1' AS neg_ip,
       cosine_distance('{1:3e38}/1'::sparsevec, '{1:3e38}/1') AS cosine,
       l1_distance('{1:3e38}/1'::sparsevec, '{1:-3e38}/1') AS l1;
-- the sum overflows although every term is finite: 3 * 1e38 is a float, 4 * 1e38 is not
SELECT inner_product('[1e19,1e19,1e19]'::vector, '[1e19,1e19,1e19]') AS ip3,
       inner_product('[1e19,1e19,1e19,1e19]'::vector, '[1e19,1e19,1e19,1e19]') AS ip4,
       l2_distance('[2e19,2e19]'::vector, '[0,0]') AS l2;
-- a product finite and a norm infinite: similarity 0, distance 1 (pgvector's arithmetic)
SELECT cosine_distance('[3e38,1]'::vector, '[0,1]') AS vector,
       cosine_distance('{1:3e38,2:1}/2'::sparsevec, '{2:1}/2') AS sparsevec;
-- squares that underflow in float32: both norms 0, NaN
SELECT cosine_distance('[1e-30,1e-30]'::vector, '[1e-30,0]') AS vector,
       cosine_distance('{1:1e-30,2:1e-30}/2'::sparsevec, '{1:1e-30}/2') AS sparsevec;
-- halfvec cannot overflow float32 (|x| <= 65504): the largest values stay finite
SELECT l2_distance(array_fill(65504, ARRAY[16000])::halfvec, array_fill(-65504, ARRAY[16000])::halfvec) AS l2,
       inner_product(array_fill(65504, ARRAY[16000])::halfvec, array_fill(65504, ARRAY[16000])::halfvec) AS ip;
-- the norm functions accumulate in double: finite where the distances overflow
SELECT vector_norm('[3e38,3e38]') AS vector, l2_norm('{1:3e38,2:3e38}/2'::sparsevec) AS sparsevec;

-- on ordinary values, the SQL functions of all three types agree with the textbook formulas
-- in double precision on the stored (float4 / half) values, within float32 accumulation error
-- (relative 1e-5 of the sum of the terms' magnitudes at these sizes)
SELECT setseed(0.25);
CREATE TEMP TABLE pgvector_edges_pairs AS
SELECT i, array_agg(round((random() * 20 - 10)::numeric, 3)::float8 ORDER BY j) AS a,
       array_agg(round((random() * 20 - 10)::numeric, 3)::float8 ORDER BY j) AS b
  FROM generate_series(1, 200) i, generate_series(1, 3 + (i % 47)) j
 GROUP BY i;
CREATE TEMP TABLE pgvector_edges_model AS
SELECT t, i, a, b,
       (SELECT sum((x - y) ^ 2) FROM unnest(xa, xb) u(x, y)) AS l2sq,
       (SELECT sum(x * y) FROM unnest(xa, xb) u(x, y)) AS ip,
       (SELECT sum(abs(x * y)) FROM unnest(xa, xb) u(x, y)) AS abs_ip,
       (SELECT sum(abs(x - y)) FROM unnest(xa, xb) u(x, y)) AS l1,
       1 - (SELECT sum(x * y) / sqrt(sum(x * x) * sum(y * y)) FROM unnest(xa, xb) u(x, y)) AS cosine
  FROM (SELECT t, i, a, b,
               CASE t WHEN 'halfvec' THEN a::halfvec::real[]::float8[] ELSE a::real[]::float8[] END AS xa,
               CASE t WHEN 'halfvec' THEN b::halfvec::real[]::float8[] ELSE b::real[]::float8[] END AS xb
          FROM pgvector_edges_pairs, unnest(ARRAY['vector', 'halfvec', 'sparsevec']) t) p;
CREATE FUNCTION pg_temp.dist(f text, t text, a float8[], b float8[]) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  EXECUTE format('SELECT %s($1::%s, $2::%s)', f, t, t) INTO r USING a, b;
  RETURN r;
END $$;
SELECT t AS type,
       bool_and(abs(pg_temp.dist('l2_distance', t, a, b) - sqrt(l2sq)) <= 1e-5 * (1 + sqrt(l2sq))) AS l2,
       bool_and(abs(pg_temp.dist('inner_product', t, a, b) - ip) <= 1e-5 * (1 + abs_ip)) AS ip,
       bool_and(abs(pg_temp.dist('l1_distance', t, a, b) - l1) <= 1e-5 * (1 + l1)) AS l1,
       bool_and(abs(pg_temp.dist('cosine_distance', t, a, b) - cosine) <= 1e-5) AS cosine,
       count(*) AS pairs
  FROM pgvector_edges_model GROUP BY t ORDER BY t;
-- the operators are the same functions (<#> negated)
SELECT bool_and(a::vector <-> b::vector = l2_distance(a::vector, b::vector)
                AND a::vector <#> b::vector = -inner_product(a::vector, b::vector)
                AND a::vector <=> b::vector = cosine_distance(a::vector, b::vector)
                AND a::vector <+> b::vector = l1_distance(a::vector, b::vector)
                AND a::halfvec <#> b::halfvec = -inner_product(a::halfvec, b::halfvec)
                AND a::sparsevec <#> b::sparsevec = -inner_product(a::sparsevec, b::sparsevec)) AS same
  FROM pgvector_edges_pairs;

-- sparsevec text input: a non-zero that underflows float4 to zero is out of range (22003),
-- as float4in; a value that stays subnormal is kept, zero itself is dropped
SELECT pg_temp.try($$SELECT '{1:1e-46,2:1}/2'::sparsevec::text$$);
SELECT pg_temp.try($$SELECT '{1:-1e-50}/1'::sparsevec::text$$);
SELECT '{1:1e-40,2:0}/2'::sparsevec, '{1:0.0}/1'::sparsevec;
-- vector and halfvec keep the underflowed value (0), as pgvector
SELECT '[1e-46,1]'::vector, '[1e-46,1]'::halfvec;

-- array casts: a double beyond float4 becomes infinite, then fails the element check (22000)
SELECT t, pg_temp.try(format($$SELECT '{4e38,-4e38}'::double precision[]::%s::text$$, t))
  FROM unnest(ARRAY['vector', 'halfvec', 'sparsevec']) t;
SELECT t, pg_temp.try(format($$SELECT '{1,1e39}'::double precision[]::%s::text$$, t))
  FROM unnest(ARRAY['vector', 'halfvec', 'sparsevec']) t;
-- a double within float4 but beyond the half range is out of range for halfvec (22003)
SELECT pg_temp.try($$SELECT '{1,1e6}'::double precision[]::halfvec::text$$);
-- numerics convert as real does (numeric_float4): its own errors and wording
SELECT t, pg_temp.try(format($$SELECT '{4e38}'::numeric[]::%s::text$$, t))
  FROM unnest(ARRAY['vector', 'halfvec', 'sparsevec']) t;
SELECT t, pg_temp.try(format($$SELECT '{1e-50}'::numeric[]::%s::text$$, t))
  FROM unnest(ARRAY['vector', 'halfvec', 'sparsevec']) t;
-- every element is converted before any is checked: the conversion error comes first
SELECT pg_temp.try($$SELECT '{NaN,70000}'::real[]::halfvec::text$$);
SELECT pg_temp.try($$SELECT '{NaN,1e39}'::float8[]::vector::text$$);

-- element-wise arithmetic: the first element, in order, that overflows or underflows decides
SELECT pg_temp.try($$SELECT ('[1e-30,3e38]'::vector * '[1e-30,10]')::text$$);
SELECT pg_temp.try($$SELECT ('[3e38,1e-30]'::vector * '[10,1e-30]')::text$$);
SELECT pg_temp.try($$SELECT ('[1e-7,60000]'::halfvec * '[1e-7,2]')::text$$);

-- aggregate states: '{0}' takes the first value's dimensions; any other state must match
SELECT pg_temp.try($$SELECT vector_accum('{0,0}', '[1,2,3]')::text$$);
SELECT pg_temp.try($$SELECT halfvec_accum('{0,0}', '[1,2,3]')::text$$);
SELECT pg_temp.try($$SELECT vector_accum('{2,1,1,1}', '[1,2]')::text$$);
SELECT vector_accum('{0}', '[1,2,3]'), halfvec_accum('{0}', '[1,2,3]'),
       vector_accum('{1,1,2,3}', '[1,2,3]'), halfvec_accum('{1,1,2,3}', '[1,2,3]');
SELECT vector_avg(vector_accum('{1,1,2,3}', '[3,2,1]')), halfvec_avg(halfvec_accum('{0}', '[65504]'));
-- halfvec's average rounds like a cast: beyond the half range is out of range
SELECT pg_temp.try($$SELECT halfvec_avg('{1,70000}')::text$$);
SELECT pg_temp.try($$SELECT vector_avg('{1,1e39}')::text$$);

-- index methods on bit varying: not supported (0A000); an expression of type bit(n) is, and
-- the indexes answer
CREATE TABLE pgvector_edges_bits (val varbit);
INSERT INTO pgvector_edges_bits VALUES ('110'), ('011'), ('101');
SELECT pg_temp.try($$CREATE INDEX ON pgvector_edges_bits USING hnsw (val bit_hamming_ops)$$);
SELECT pg_temp.try($$CREATE INDEX ON pgvector_edges_bits USING ivfflat (val bit_hamming_ops) WITH (lists = 1)$$);
CREATE INDEX pgvector_edges_bits_hnsw ON pgvector_edges_bits USING hnsw ((val::bit(3)) bit_hamming_ops);
CREATE INDEX pgvector_edges_bits_ivf ON pgvector_edges_bits USING ivfflat ((val::bit(3)) bit_hamming_ops) WITH (lists = 1);
SET enable_seqscan = off;
SELECT val FROM pgvector_edges_bits ORDER BY val::bit(3) <~> '011' LIMIT 1;
RESET enable_seqscan;
DROP TABLE pgvector_edges_bits;

-- index creation errors: pgvector's messages and SQLSTATEs, and its order of checks (a column
-- without dimensions is named before an ef_construction below 2 * m)
CREATE TABLE pgvector_edges_ix (v vector, v1 vector(1), v2001 vector(2001), h1 halfvec(1),
  h4001 halfvec(4001), b bit(64001), s sparsevec(2000));
SELECT n, spec, pg_temp.try('CREATE INDEX ON pgvector_edges_ix USING ' || spec) AS error FROM (VALUES
  (1, 'hnsw (v vector_l2_ops)'),
  (2, 'hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 16)'),
  (3, 'hnsw (v2001 vector_l2_ops)'),
  (4, 'hnsw (h4001 halfvec_l2_ops)'),
  (5, 'hnsw (b bit_hamming_ops)'),
  (6, 'hnsw (v1 vector_l2_ops) WITH (m = 16, ef_construction = 31)'),
  (7, 'hnsw (v1 vector_l2_ops) WITH (m = 1)'),
  (8, 'hnsw (v1 vector_l2_ops) WITH (m = 101)'),
  (9, 'hnsw (v1 vector_l2_ops) WITH (ef_construction = 3)'),
  (10, 'hnsw (v1 vector_l2_ops) WITH (ef_construction = 1001)'),
  (11, 'hnsw (v1 vector_l2_ops) WITH (lists = 10)'),
  (12, 'ivfflat (v vector_l2_ops)'),
  (13, 'ivfflat (v2001 vector_l2_ops)'),
  (14, 'ivfflat (h4001 halfvec_l2_ops)'),
  (15, 'ivfflat (b bit_hamming_ops)'),
  (16, 'ivfflat (v1 vector_l2_ops) WITH (lists = 0)'),
  (17, 'ivfflat (v1 vector_l2_ops) WITH (lists = 32769)'),
  -- spherical k-means (inner product, cosine) needs two dimensions; L2 takes one (below)
  (18, 'ivfflat (v1 vector_ip_ops)'),
  (19, 'ivfflat (v1 vector_cosine_ops)'),
  (20, 'ivfflat (h1 halfvec_ip_ops)'),
  (21, 'ivfflat (h1 halfvec_cosine_ops)'),
  -- operator classes the method has not, or of another type
  (22, 'ivfflat (s sparsevec_l2_ops)'),
  (23, 'ivfflat (b bit_jaccard_ops)'),
  (24, 'hnsw (h1 vector_l2_ops)')
) s(n, spec) ORDER BY n;
CREATE INDEX pgvector_edges_ix_l2 ON pgvector_edges_ix USING ivfflat (v1 vector_l2_ops);
-- a sparsevec of more than 1,000 non-zero elements, at build and at insert
INSERT INTO pgvector_edges_ix (s)
  SELECT ('{' || string_agg(i || ':1', ',') || '}/2000')::sparsevec FROM generate_series(1, 1001) i;
SELECT pg_temp.try($$CREATE INDEX ON pgvector_edges_ix USING hnsw (s sparsevec_l2_ops)$$);
DELETE FROM pgvector_edges_ix;
CREATE INDEX pgvector_edges_ix_s ON pgvector_edges_ix USING hnsw (s sparsevec_l2_ops);
SELECT pg_temp.try($$INSERT INTO pgvector_edges_ix (s) SELECT ('{' || string_agg(i || ':1', ',') || '}/2000')::sparsevec FROM generate_series(1, 1001) i$$);
-- settings out of range
SELECT pg_temp.try($$SET hnsw.ef_search = 0$$);
SELECT pg_temp.try($$SET ivfflat.probes = 0$$);
DROP TABLE pgvector_edges_ix;
