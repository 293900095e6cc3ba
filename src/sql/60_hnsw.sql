-- ragstore: the hnsw index access method (pgvector-compatible names; no default operator class).

CREATE FUNCTION hnswhandler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER hnswhandler;

COMMENT ON ACCESS METHOD hnsw IS 'hnsw index access method';

-- Support function 3 of each operator class, one per element type: returns the class's entry of
-- the descriptor table (src/pg/distance.h), found by its support functions 1 and 2.
CREATE FUNCTION ragstore.hnsw_vector_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'hnsw_vector_support' LANGUAGE C;

-- Support function 1 is the distance the index orders by (smaller is closer), 2 the norm for
-- cosine (values are normalised and zero vectors are not indexed).
CREATE OPERATOR CLASS vector_l2_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_l2_squared_distance(vector, vector),
    FUNCTION 3 ragstore.hnsw_vector_support(internal);

CREATE OPERATOR CLASS vector_ip_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 3 ragstore.hnsw_vector_support(internal);

CREATE OPERATOR CLASS vector_cosine_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 vector_negative_inner_product(vector, vector),
    FUNCTION 2 vector_norm(vector),
    FUNCTION 3 ragstore.hnsw_vector_support(internal);

CREATE OPERATOR CLASS vector_l1_ops
    FOR TYPE vector USING hnsw AS
    OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(vector, vector),
    FUNCTION 3 ragstore.hnsw_vector_support(internal);

CREATE FUNCTION ragstore.hnsw_halfvec_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'hnsw_halfvec_support' LANGUAGE C;
CREATE FUNCTION ragstore.hnsw_sparsevec_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'hnsw_sparsevec_support' LANGUAGE C;
CREATE FUNCTION ragstore.hnsw_bit_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'hnsw_bit_support' LANGUAGE C;

CREATE OPERATOR CLASS halfvec_l2_ops
    FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_l2_squared_distance(halfvec, halfvec),
    FUNCTION 3 ragstore.hnsw_halfvec_support(internal);

CREATE OPERATOR CLASS halfvec_ip_ops
    FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 3 ragstore.hnsw_halfvec_support(internal);

CREATE OPERATOR CLASS halfvec_cosine_ops
    FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 halfvec_negative_inner_product(halfvec, halfvec),
    FUNCTION 2 l2_norm(halfvec),
    FUNCTION 3 ragstore.hnsw_halfvec_support(internal);

CREATE OPERATOR CLASS halfvec_l1_ops
    FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(halfvec, halfvec),
    FUNCTION 3 ragstore.hnsw_halfvec_support(internal);

CREATE OPERATOR CLASS sparsevec_l2_ops
    FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <-> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_l2_squared_distance(sparsevec, sparsevec),
    FUNCTION 3 ragstore.hnsw_sparsevec_support(internal);

CREATE OPERATOR CLASS sparsevec_ip_ops
    FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <#> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_negative_inner_product(sparsevec, sparsevec),
    FUNCTION 3 ragstore.hnsw_sparsevec_support(internal);

CREATE OPERATOR CLASS sparsevec_cosine_ops
    FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <=> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 sparsevec_negative_inner_product(sparsevec, sparsevec),
    FUNCTION 2 l2_norm(sparsevec),
    FUNCTION 3 ragstore.hnsw_sparsevec_support(internal);

CREATE OPERATOR CLASS sparsevec_l1_ops
    FOR TYPE sparsevec USING hnsw AS
    OPERATOR 1 <+> (sparsevec, sparsevec) FOR ORDER BY float_ops,
    FUNCTION 1 l1_distance(sparsevec, sparsevec),
    FUNCTION 3 ragstore.hnsw_sparsevec_support(internal);

CREATE OPERATOR CLASS bit_hamming_ops
    FOR TYPE bit USING hnsw AS
    OPERATOR 1 <~> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 hamming_distance(bit, bit),
    FUNCTION 3 ragstore.hnsw_bit_support(internal);

CREATE OPERATOR CLASS bit_jaccard_ops
    FOR TYPE bit USING hnsw AS
    OPERATOR 1 <%> (bit, bit) FOR ORDER BY float_ops,
    FUNCTION 1 jaccard_distance(bit, bit),
    FUNCTION 3 ragstore.hnsw_bit_support(internal);

-- Debug-only (requires ragstore.debug_functions = on, superuser): counts the live elements of
-- an hnsw index, those without a layer-0 in-link (orphans) and those the entry point does not
-- reach on layer 0 (unreachable: no search can return their rows). Reads the whole index.
CREATE FUNCTION ragstore.debug_hnsw_graph(index regclass, OUT elements bigint, OUT orphans bigint,
                                          OUT unreachable bigint)
    AS 'MODULE_PATHNAME', 'ragstore_debug_hnsw_graph' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION ragstore.debug_hnsw_graph(regclass) FROM PUBLIC;
