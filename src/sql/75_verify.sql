-- ragstore: the index verifier (src/pg/verify.cpp, src/hnsw/hnsw_verify.cpp, src/ivf/ivf_verify.cpp).

-- ragstore.verify_index(index, heapallindexed): checks an hnsw or ivfflat index, in the spirit
-- of PostgreSQL's amcheck, and returns one row per problem (none for a healthy index): the
-- index block and item (NULL when the problem is not at one place), the heap TID concerned,
-- a short problem kind and a detail. With heapallindexed, also checks that every table row
-- visible to the check's snapshot with an indexed value (not NULL, not a zero vector under
-- cosine, inside a partial index's predicate) has exactly one index entry. Takes
-- AccessShareLock (runs on a hot standby). Errors only for wrong arguments: 42809 when the
-- relation is not an hnsw or ivfflat index, 55000 for an invalid index.
CREATE FUNCTION ragstore.verify_index(index regclass, heapallindexed boolean DEFAULT false,
                                      OUT block bigint, OUT item integer, OUT heap_tid tid,
                                      OUT problem text, OUT detail text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ragstore_verify_index' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
REVOKE ALL ON FUNCTION ragstore.verify_index(regclass, boolean) FROM PUBLIC;

-- Debug-only (requires ragstore.debug_functions = on, superuser): writes bytes into a page of
-- an hnsw or ivfflat index (inside line pointer `item`'s tuple, or the whole page for item 0),
-- WAL-logged. It corrupts a copy of an index on purpose, for the verifier's tests.
CREATE FUNCTION ragstore.debug_write_index_page(index regclass, block bigint, item integer,
                                                byte_offset integer, data bytea)
    RETURNS void
    AS 'MODULE_PATHNAME', 'ragstore_debug_write_index_page' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION ragstore.debug_write_index_page(regclass, bigint, integer, integer, bytea) FROM PUBLIC;
