-- bit: hamming_distance, jaccard_distance and the <~> / <%> operators on PostgreSQL's bit type.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE sql INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- values checked by hand: 101 vs 111 differ in one bit; |and| = 2, |or| = 3
SELECT hamming_distance(B'101', B'111'), B'101' <~> B'111',
       jaccard_distance(B'101', B'111'), B'101' <%> B'111';
SELECT hamming_distance(B'0000', B'1111'), hamming_distance(B'1', B'1'),
       jaccard_distance(B'1100', B'0011') AS disjoint, jaccard_distance(B'1100', B'1100') AS same,
       jaccard_distance(B'000', B'000') AS both_empty, jaccard_distance(B'000', B'010') AS one_empty;
SELECT pg_typeof(B'1' <~> B'1'), pg_typeof(B'1' <%> B'1');
-- different lengths are errors
\set VERBOSITY default
SELECT hamming_distance(B'111', B'11');
SELECT jaccard_distance(B'1', B'10');
SELECT B'111' <~> B'11';
SELECT B'111' <%> B'11';
\set VERBOSITY terse

-- random bit strings of many lengths (around the 8-byte and 32-byte kernel blocks, seeded):
-- the kernels agree with PostgreSQL's own bit operators
SELECT setseed(0.5);
CREATE TEMP TABLE bits AS
  SELECT n, k, string_agg(CASE WHEN random() < 0.4 THEN '1' ELSE '0' END, '') AS a,
         string_agg(CASE WHEN random() < 0.3 THEN '1' ELSE '0' END, '') AS b
    FROM unnest(ARRAY[1, 7, 8, 9, 63, 64, 65, 255, 256, 257, 1000, 4096, 64000]) n,
         generate_series(1, 5) k, LATERAL generate_series(1, n) i
   GROUP BY n, k;
SELECT count(*) AS pairs, sum(a::varbit <~> b::varbit) > 20000 AS nontrivial,
       count(*) FILTER (WHERE hamming_distance(a::varbit, b::varbit)
                              <> bit_count(a::varbit # b::varbit)) AS hamming_wrong,
       count(*) FILTER (WHERE a::varbit <~> b::varbit <> bit_count(a::varbit # b::varbit)) AS op_wrong,
       count(*) FILTER (WHERE abs(jaccard_distance(a::varbit, b::varbit) -
                               CASE WHEN bit_count(a::varbit & b::varbit) = 0 THEN 1
                                    ELSE 1 - bit_count(a::varbit & b::varbit)::float8
                                             / bit_count(a::varbit | b::varbit) END) > 1e-12) AS jaccard_wrong
  FROM bits;
-- binary_quantize feeds the bit distances
SELECT binary_quantize('[1,-1,2,-2]'::vector) <~> binary_quantize('[1,1,-2,-2]'::vector) AS hamming,
       binary_quantize('[1,-1,2,-2]'::halfvec) <%> binary_quantize('[1,1,2,-2]'::halfvec) AS jaccard;
-- in a table, ordered by distance
CREATE TABLE bit_t (id int, b bit(8));
INSERT INTO bit_t VALUES (1, B'11110000'), (2, B'11111111'), (3, B'00000000'), (4, B'11100000'), (5, NULL);
SELECT id, b <~> B'11110000' AS hamming, round((b <%> B'11110000')::numeric, 4) AS jaccard
  FROM bit_t ORDER BY b <~> B'11110000', id;
DROP TABLE bit_t;
SELECT proname, provolatile, proisstrict, proparallel FROM pg_proc
 WHERE proname IN ('hamming_distance', 'jaccard_distance') ORDER BY 1;
SELECT oprname, oprleft::regtype, oprright::regtype, oprresult::regtype, oprcom::regoperator
  FROM pg_operator WHERE oprname IN ('<~>', '<%>') ORDER BY 1;
