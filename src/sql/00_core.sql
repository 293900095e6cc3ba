-- ragstore core: the schema for our own objects and the debug-only functions.

CREATE SCHEMA ragstore;

-- Debug-only (requires ragstore.debug_functions = on, superuser): throws a C++ exception of the
-- given kind inside the error guard; used by the regression tests of the C++/SQL boundary.
CREATE FUNCTION ragstore.debug_throw(kind text) RETURNS void
    AS 'MODULE_PATHNAME', 'ragstore_debug_throw' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION ragstore.debug_throw(text) FROM PUBLIC;

-- Debug-only (requires ragstore.debug_functions = on, superuser): the self-check of the distance
-- descriptor table, one row per (element type, metric) entry: kernels against the SQL distance
-- functions and ivfflat's batch kernels against the kernels on seeded random values.
CREATE FUNCTION ragstore.debug_check_distances(seed bigint, OUT opclass text, OUT pairs integer,
    OUT kernel_off integer, OUT batch_off integer, OUT lookups_ok boolean) RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'ragstore_debug_check_distances' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION ragstore.debug_check_distances(bigint) FROM PUBLIC;
