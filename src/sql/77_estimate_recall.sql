-- ragstore: estimating an hnsw or ivfflat index's recall on its own data, in SQL.

-- The row ragstore.estimate_recall returns: recall@k over the queries drawn, the bounds of its
-- 95% Wilson score interval, and the number of queries and the k actually used.
CREATE TYPE ragstore.recall_estimate AS (recall float8, ci_low float8, ci_high float8,
                                         queries integer, k integer);

-- ragstore.estimate_recall(index, queries, k, seed): recall@k of an hnsw or ivfflat index with
-- the session's current search settings (hnsw.ef_search, ivfflat.probes, the iterative scan
-- settings, ...).
--   Queries: `queries` values of the indexed column or expression drawn uniformly at random
--   (ORDER BY random() over one scan of the table) among the table's rows inside the index's
--   predicate whose value is indexed (not NULL, not a zero vector under cosine: the operator's
--   distance of the value to itself is not NaN). A table with fewer such rows gives fewer
--   queries, reported in `queries`. Each query is a stored vector, so its own row is among its
--   exact neighbours. `seed` (-1..1, as setseed; NULL: the session's random state) makes the
--   draw repeatable on an unchanged table.
--   Per query: the index scan (ORDER BY the opclass's ordering operator, LIMIT k; the plan is
--   checked to scan this index, else 55000) and the exact scan (the same distances over every
--   row, computed outside the index). With m = min(k, rows the exact scan returns) and d_m the
--   m-th exact distance, an index result counts as a hit when its distance is <= d_m, so ties at
--   the k-th distance count as correct; hits per query are at most m.
--   recall = hits / sum of m over the queries. ci_low, ci_high: the Wilson score interval at
--   95% (z = 1.959963984540054) treating the sum of m (about queries * k) results as independent
--   trials; results of one query are correlated, so the interval is somewhat too narrow when
--   recall varies much between queries. No indexed row: recall and the interval are NULL,
--   queries 0.
--   Cost: one scan of the table to draw, then per query one index scan and one full scan.
--   Read-only (runs on a hot standby); needs SELECT on the table.
-- Errors: 42809 when `index` is not an hnsw or ivfflat index; 22023 when queries or k is < 1 or
-- NULL, or index is NULL; 22003 from setseed when seed is outside -1..1; 55000 when the planner
-- does not scan this index (another index of the same column and operator class is preferred).
CREATE FUNCTION ragstore.estimate_recall(index regclass, queries integer DEFAULT 100,
                                         k integer DEFAULT 10, seed float8 DEFAULT NULL)
    RETURNS ragstore.recall_estimate
    LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
    -- the index scan must be chosen whatever the table's size: a sequential scan plus sort is
    -- the only other plan for ORDER BY distance LIMIT k. Restored when the function returns.
    SET enable_seqscan = off
    SET enable_indexscan = on
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    am        name;
    tbl       text;
    expr      text;
    pred      text;
    op        text;
    typ       text;
    idxname   name;
    sample_q  text;
    ann_q     text;
    exact_q   text;
    plan      jsonb;
    v         text;
    exact_d   float8[];
    ann_d     float8[];
    m         integer;
    hits      bigint := 0;
    trials    bigint := 0;
    nq        integer := 0;
    p         float8;
    z         constant float8 := 1.959963984540054;
    denom     float8;
    centre    float8;
    half      float8;
    result    ragstore.recall_estimate;
BEGIN
    IF estimate_recall.index IS NULL THEN
        RAISE EXCEPTION 'index must not be NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF estimate_recall.queries IS NULL OR estimate_recall.queries < 1 THEN
        RAISE EXCEPTION 'queries must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF estimate_recall.k IS NULL OR estimate_recall.k < 1 THEN
        RAISE EXCEPTION 'k must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT a.amname, c.relname, i.indrelid::regclass::text,
           pg_get_indexdef(i.indexrelid, 1, false),
           pg_get_expr(i.indpred, i.indrelid)
      INTO am, idxname, tbl, expr, pred
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_am a ON a.oid = c.relam
     WHERE i.indexrelid = estimate_recall.index;
    IF am IS NULL OR am NOT IN ('hnsw', 'ivfflat') THEN
        RAISE EXCEPTION '"%" is not an hnsw or ivfflat index', estimate_recall.index
            USING ERRCODE = 'wrong_object_type';
    END IF;

    -- the ordering operator of the index's operator class (its ORDER BY operator)
    SELECT format('OPERATOR(%I.%s)', n.nspname, o.oprname)
      INTO op
      FROM pg_index i
      JOIN pg_opclass oc ON oc.oid = i.indclass[0]
      JOIN pg_amop ao ON ao.amopfamily = oc.opcfamily AND ao.amoppurpose = 'o'
                     AND ao.amoplefttype = oc.opcintype
      JOIN pg_operator o ON o.oid = ao.amopopr
      JOIN pg_namespace n ON n.oid = o.oprnamespace
     WHERE i.indexrelid = estimate_recall.index
     ORDER BY ao.amopstrategy
     LIMIT 1;
    IF op IS NULL THEN
        RAISE EXCEPTION 'index "%" has no ordering operator', estimate_recall.index
            USING ERRCODE = 'wrong_object_type';
    END IF;

    -- queries travel as text (the types' output is exact) and are cast back to the indexed type
    SELECT format_type(a.atttypid, NULL) INTO typ
      FROM pg_attribute a WHERE a.attrelid = estimate_recall.index AND a.attnum = 1;

    expr := '(' || expr || ')';
    pred := coalesce('(' || pred || ')', 'true');

    sample_q := format(
        'SELECT %1$s::text AS v FROM %2$s WHERE %3$s AND %1$s IS NOT NULL'
        ' AND (%1$s %4$s %1$s) <> ''NaN''::float8 ORDER BY random() LIMIT %5$s',
        expr, tbl, pred, op, estimate_recall.queries);
    ann_q := format(
        'SELECT %1$s %4$s $1::%6$s AS d FROM %2$s WHERE %3$s ORDER BY %1$s %4$s $1::%6$s LIMIT %5$s',
        expr, tbl, pred, op, estimate_recall.k, typ);
    -- OFFSET 0 keeps the subquery from being merged, so ORDER BY d cannot use any index
    exact_q := format(
        'SELECT d FROM (SELECT %1$s %4$s $1::%6$s AS d FROM %2$s WHERE %3$s OFFSET 0) s'
        ' WHERE d IS NOT NULL AND d <> ''NaN''::float8 ORDER BY d LIMIT %5$s',
        expr, tbl, pred, op, estimate_recall.k, typ);

    IF estimate_recall.seed IS NOT NULL THEN
        PERFORM setseed(estimate_recall.seed);
    END IF;

    FOR v IN EXECUTE sample_q LOOP
        IF nq = 0 THEN
            EXECUTE 'EXPLAIN (FORMAT JSON) ' || ann_q INTO plan USING v;
            IF NOT jsonb_path_exists(plan, '$.** ? (@."Index Name" == $n)',
                                     jsonb_build_object('n', idxname)) THEN
                RAISE EXCEPTION 'the planner does not scan index "%" for its ordering operator',
                                estimate_recall.index
                    USING ERRCODE = 'object_not_in_prerequisite_state',
                          HINT = 'Another index on the same column and operator class is preferred.';
            END IF;
        END IF;
        nq := nq + 1;
        -- SET LOCAL of a variable in the function's SET clauses ends with the function
        PERFORM set_config('enable_seqscan', 'on', true), set_config('enable_indexscan', 'off', true);
        EXECUTE format('SELECT array_agg(d ORDER BY d) FROM (%s) e', exact_q)
            INTO exact_d USING v;
        PERFORM set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'on', true);
        m := coalesce(array_length(exact_d, 1), 0);
        CONTINUE WHEN m = 0;
        EXECUTE format('SELECT array_agg(d) FROM (%s) a', ann_q) INTO ann_d USING v;
        hits := hits + least(m, (SELECT count(*) FROM unnest(ann_d) x WHERE x <= exact_d[m]));
        trials := trials + m;
    END LOOP;

    result.queries := nq;
    result.k := estimate_recall.k;
    IF trials > 0 THEN
        p := hits::float8 / trials;
        denom := 1 + z * z / trials;
        centre := (p + z * z / (2 * trials)) / denom;
        half := z * sqrt(p * (1 - p) / trials + z * z / (4.0 * trials * trials)) / denom;
        result.recall := p;
        result.ci_low := greatest(0, centre - half);
        result.ci_high := least(1, centre + half);
    END IF;
    RETURN result;
END
$fn$;
