-- The C++/PostgreSQL error guard: a C++ exception becomes a clean SQL error with the right
-- SQLSTATE, and the session keeps working afterwards.
\set VERBOSITY default
SELECT ragstore.debug_throw('runtime');   -- disabled by default
SET ragstore.debug_functions = on;
\set VERBOSITY sqlstate
SELECT ragstore.debug_throw('runtime');
SELECT ragstore.debug_throw('bad_alloc');
SELECT ragstore.debug_throw('invalid_parameter');
SELECT ragstore.debug_throw('out_of_range');
\set VERBOSITY default
SELECT ragstore.debug_throw('invalid_parameter');
SELECT ragstore.debug_throw('something else');
-- the session still works, inside and after a transaction that saw the error
BEGIN;
SELECT ragstore.debug_throw('runtime');
ROLLBACK;
SELECT '[1,2,3]'::vector <-> '[4,6,3]'::vector AS still_working;
RESET ragstore.debug_functions;
