-- Casts between vector, halfvec and sparsevec (contexts, values, typmods, errors), and the same
-- distances computed on all three types for seeded random inputs, which must agree.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  EXECUTE sql INTO r;
  RETURN r;
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- the cast table (pgvector's): contexts a = assignment, i = implicit
SELECT castsource::regtype, casttarget::regtype, castfunc::regproc, castcontext
  FROM pg_cast
 WHERE castsource IN ('vector'::regtype, 'halfvec'::regtype, 'sparsevec'::regtype)
    OR casttarget IN ('vector'::regtype, 'halfvec'::regtype, 'sparsevec'::regtype)
 ORDER BY castsource::regtype::text, casttarget::regtype::text;

-- vector <-> halfvec: rounding to nearest half, out of range beyond 65504, exact widening
SELECT '[1,0.1,65504,-1e-8,2049]'::vector::halfvec, '[1,0.1,-2]'::halfvec::vector;
SELECT vector_to_halfvec('[1,2]', -1, false), halfvec_to_vector('[1,2]', -1, false);
SELECT expr, pg_temp.try(format('SELECT (%s)::text', expr)) AS result
  FROM unnest(ARRAY[$$'[1,65520]'::vector::halfvec$$, $$'[-1e5]'::vector::halfvec$$,
                    $$'[3e38]'::vector::halfvec$$,
                    $$'[1,2,3]'::vector::halfvec(3)$$, $$'[1,2,3]'::vector::halfvec(2)$$,
                    $$'[1,2,3]'::halfvec::vector(3)$$, $$'[1,2,3]'::halfvec::vector(4)$$,
                    $$vector_to_halfvec('[1,2]', 3, true)$$, $$halfvec_to_vector('[1,2]', 3, true)$$]) expr;
-- every finite half survives halfvec -> vector -> halfvec (F16C bulk paths both ways)
SELECT sum(vector_dims(h)) AS finite_halves,
       bool_and(halfvec_send(h::vector::halfvec) = halfvec_send(h)) AS round_trip
  FROM (SELECT array_agg(x)::halfvec AS h
          FROM (SELECT b, (CASE WHEN b >= 32768 THEN -1 ELSE 1 END *
                           CASE WHEN (b & 31744) = 0 THEN (b & 1023) * 2.0 ^ -24
                                ELSE (1024 + (b & 1023)) * 2.0 ^ (((b & 31744) >> 10) - 25) END)::real AS x
                  FROM generate_series(0, 65535) b WHERE (b & 31744) <> 31744) v
         GROUP BY b / 8000) t;

-- dense <-> sparsevec
SELECT '[1,0,2,0]'::vector::sparsevec, '[0,0.1,0]'::halfvec::sparsevec, '[0,0]'::vector::sparsevec;
SELECT '{2:3,4:-1}/4'::sparsevec::vector, '{1:0.1,3:70000}/3'::sparsevec::vector,
       '{2:0.1}/3'::sparsevec::halfvec, '{}/2'::sparsevec::halfvec;
SELECT vector_to_sparsevec('[1,0]', -1, false), sparsevec_to_vector('{1:1}/2', -1, false),
       halfvec_to_sparsevec('[0,1]', -1, false), sparsevec_to_halfvec('{2:1}/2', -1, false);
SELECT expr, pg_temp.try(format('SELECT (%s)::text', expr)) AS result
  FROM unnest(ARRAY[$$'{1:1}/16001'::sparsevec::vector$$, $$'{1:1}/16001'::sparsevec::halfvec$$,
                    $$'{1:70000}/3'::sparsevec::halfvec$$, $$'{1:1e-8}/3'::sparsevec::halfvec$$,
                    $$'[1,0,2]'::vector::sparsevec(3)$$, $$'[1,0,2]'::vector::sparsevec(4)$$,
                    $$'[1,0,2]'::halfvec::sparsevec(2)$$, $$'{1:1}/3'::sparsevec::vector(2)$$,
                    $$'{1:1}/3'::sparsevec::halfvec(3)$$, $$'{1:1}/3'::sparsevec::halfvec(4)$$,
                    $$sparsevec_to_vector('{1:1}/3', 3, true)$$]) expr;
SELECT vector_dims('{16000:1}/16000'::sparsevec::vector) AS max_dims,
       vector_dims('{1:1}/16000'::sparsevec::halfvec) AS max_dims_half;

-- implicit casts apply in function calls; assignment casts only in assignments
CREATE FUNCTION pg_temp.takes_halfvec(halfvec) RETURNS text LANGUAGE sql AS $$SELECT $1::text$$;
CREATE FUNCTION pg_temp.takes_sparsevec(sparsevec) RETURNS text LANGUAGE sql AS $$SELECT $1::text$$;
CREATE FUNCTION pg_temp.takes_vector(vector) RETURNS text LANGUAGE sql AS $$SELECT $1::text$$;
SELECT pg_temp.takes_halfvec('[1,2]'::vector), pg_temp.takes_sparsevec('[1,0]'::vector),
       pg_temp.takes_sparsevec('[0,2]'::halfvec);
SELECT pg_temp.try($$SELECT pg_temp.takes_vector('[1,2]'::halfvec)$$) AS halfvec_to_vector_not_implicit,
       pg_temp.try($$SELECT pg_temp.takes_vector('{1:1}/2'::sparsevec)$$) AS sparsevec_to_vector_not_implicit,
       pg_temp.try($$SELECT pg_temp.takes_halfvec('{1:1}/2'::sparsevec)$$) AS sparsevec_to_halfvec_not_implicit;
CREATE TABLE casts_t (v vector(3), h halfvec(3), s sparsevec(3));
INSERT INTO casts_t VALUES ('[1,2,3]'::halfvec, '[1,0,3]'::vector, '[0,0,5]'::vector);
INSERT INTO casts_t VALUES ('{1:1}/3'::sparsevec, '{2:2}/3'::sparsevec, '[0,0.5,0]'::halfvec);
INSERT INTO casts_t (h) VALUES ('[1,2]'::vector);     -- typmod checked through the cast
INSERT INTO casts_t (v) VALUES ('{1:1}/4'::sparsevec);
SELECT * FROM casts_t;
DROP TABLE casts_t;

-- The same distances on vector, halfvec and sparsevec, for seeded random inputs of many
-- dimensions (1..400) and about 60% zeros.
-- 1. Values that halves hold exactly (multiples of 1/8 up to 100): all three types agree up to
--    float32 accumulation order.
CREATE FUNCTION pg_temp.close(x float8, y float8, tol float8) RETURNS bool LANGUAGE sql AS
  $$SELECT (x = 'NaN' AND y = 'NaN') OR abs(x - y) <= tol$$;
SELECT setseed(0.125);
CREATE TEMP TABLE exact_pairs AS
  SELECT id, array_agg(x ORDER BY i)::vector AS va, array_agg(y ORDER BY i)::vector AS vb
    FROM (SELECT id, i,
                 CASE WHEN random() < 0.6 THEN 0 ELSE round(random() * 1600 - 800) / 8 END::real AS x,
                 CASE WHEN random() < 0.6 THEN 0 ELSE round(random() * 1600 - 800) / 8 END::real AS y
            FROM generate_series(1, 300) id, LATERAL generate_series(1, 1 + (id * 37) % 400) i) t
   GROUP BY id;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE NOT (pg_temp.close(l2v, l2h, 1e-5 * (1 + l2v)) AND pg_temp.close(l2v, l2s, 1e-5 * (1 + l2v)))) AS l2_disagree,
       count(*) FILTER (WHERE NOT (pg_temp.close(ipv, iph, 1e-5 * (1 + mag)) AND pg_temp.close(ipv, ips, 1e-5 * (1 + mag)))) AS ip_disagree,
       count(*) FILTER (WHERE NOT (pg_temp.close(cosv, cosh, 1e-5) AND pg_temp.close(cosv, coss, 1e-5))) AS cos_disagree,
       count(*) FILTER (WHERE NOT (pg_temp.close(l1v, l1h, 1e-5 * (1 + l1v)) AND pg_temp.close(l1v, l1s, 1e-5 * (1 + l1v)))) AS l1_disagree,
       count(*) FILTER (WHERE NOT (pg_temp.close(nv, nh, 1e-9 * (1 + nv)) AND pg_temp.close(nv, ns, 1e-9 * (1 + nv)))) AS norm_disagree,
       count(*) FILTER (WHERE cosv = 'NaN') AS zero_vector_pairs,
       count(*) FILTER (WHERE NOT (va::halfvec::vector = va AND va::sparsevec::vector = va
                                   AND va::halfvec::sparsevec = va::sparsevec
                                   AND va::sparsevec::halfvec = va::halfvec)) AS cast_round_trip_wrong
  FROM (SELECT va, vb,
               va <-> vb AS l2v, va::halfvec <-> vb::halfvec AS l2h, va::sparsevec <-> vb::sparsevec AS l2s,
               inner_product(va, vb) AS ipv, inner_product(va::halfvec, vb::halfvec) AS iph,
               inner_product(va::sparsevec, vb::sparsevec) AS ips,
               vector_norm(va) * vector_norm(vb) AS mag,
               va <=> vb AS cosv, va::halfvec <=> vb::halfvec AS cosh, va::sparsevec <=> vb::sparsevec AS coss,
               va <+> vb AS l1v, va::halfvec <+> vb::halfvec AS l1h, va::sparsevec <+> vb::sparsevec AS l1s,
               vector_norm(va) AS nv, l2_norm(va::halfvec) AS nh, l2_norm(va::sparsevec) AS ns
          FROM exact_pairs) d;
-- the operators <#> agree with -inner_product on all three types
SELECT count(*) FILTER (WHERE (va <#> vb) <> -inner_product(va, vb)
                           OR (va::halfvec <#> vb::halfvec) <> -inner_product(va::halfvec, vb::halfvec)
                           OR (va::sparsevec <#> vb::sparsevec) <> -inner_product(va::sparsevec, vb::sparsevec))
       AS negative_ip_wrong
  FROM exact_pairs;
-- 2. Arbitrary values: halfvec agrees with vector within half precision (each element rounded
--    with relative error <= 2^-11), sparsevec with vector up to accumulation order.
SELECT setseed(0.75);
CREATE TEMP TABLE random_pairs AS
  SELECT id, array_agg(x ORDER BY i)::vector AS va, array_agg(y ORDER BY i)::vector AS vb
    FROM (SELECT id, i,
                 CASE WHEN random() < 0.6 THEN 0 ELSE random() * 20 - 10 END::real AS x,
                 CASE WHEN random() < 0.6 THEN 0 ELSE random() * 20 - 10 END::real AS y
            FROM generate_series(1, 300) id, LATERAL generate_series(1, 1 + (id * 53) % 400) i) t
   GROUP BY id;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE NOT pg_temp.close(l2v, l2h, 1e-3 * (na + nb))) AS l2_half_disagree,
       count(*) FILTER (WHERE NOT pg_temp.close(ipv, iph, 2e-3 * na * nb + 1e-6)) AS ip_half_disagree,
       count(*) FILTER (WHERE NOT pg_temp.close(cosv, cosh, 5e-3)) AS cos_half_disagree,
       count(*) FILTER (WHERE NOT pg_temp.close(l1v, l1h, 1e-3 * (l1a + l1b))) AS l1_half_disagree,
       count(*) FILTER (WHERE NOT (pg_temp.close(l2v, l2s, 1e-5 * (1 + l2v))
                                   AND pg_temp.close(ipv, ips, 1e-5 * (1 + na * nb))
                                   AND pg_temp.close(cosv, coss, 1e-5)
                                   AND pg_temp.close(l1v, l1s, 1e-5 * (1 + l1v)))) AS sparse_disagree,
       -- halves are not exact here: the test would notice if halfvec silently used floats
       count(*) FILTER (WHERE l2v <> l2h) > 250 AS halves_differ_from_floats
  FROM (SELECT va <-> vb AS l2v, va::halfvec <-> vb::halfvec AS l2h, va::sparsevec <-> vb::sparsevec AS l2s,
               inner_product(va, vb) AS ipv, inner_product(va::halfvec, vb::halfvec) AS iph,
               inner_product(va::sparsevec, vb::sparsevec) AS ips,
               va <=> vb AS cosv, va::halfvec <=> vb::halfvec AS cosh, va::sparsevec <=> vb::sparsevec AS coss,
               va <+> vb AS l1v, va::halfvec <+> vb::halfvec AS l1h, va::sparsevec <+> vb::sparsevec AS l1s,
               vector_norm(va) AS na, vector_norm(vb) AS nb,
               (SELECT sum(abs(x)) FROM unnest(va::real[]) x) AS l1a,
               (SELECT sum(abs(x)) FROM unnest(vb::real[]) x) AS l1b
          FROM random_pairs) d;
