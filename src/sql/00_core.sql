-- ragstore core: the schema for our own objects and the debug-only functions.

CREATE SCHEMA ragstore;

-- Debug-only (requires ragstore.debug_functions = on, superuser): throws a C++ exception of the
-- given kind inside the error guard; used by the regression tests of the C++/SQL boundary.
CREATE FUNCTION ragstore.debug_throw(kind text) RETURNS void
    AS 'MODULE_PATHNAME', 'ragstore_debug_throw' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION ragstore.debug_throw(text) FROM PUBLIC;
