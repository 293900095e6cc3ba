-- The descriptor table of distances (src/pg/distance.cpp) checked entry by entry on seeded
-- random values: each kernel against its SQL distance function, each ivfflat batch kernel (on
-- the working form, through the type's element conversions) against the kernel, and the
-- support functions' lookups. A wrong kernel, batch kernel or conversion in an entry shows as a
-- non-zero count in its row; batch_off is NULL where ivfflat does not take the distance.
SELECT count(*) FROM ragstore.debug_check_distances(1);   -- disabled by default
SET ragstore.debug_functions = on;
SELECT * FROM ragstore.debug_check_distances(42);
-- other values: nothing off
SELECT count(*) AS entries, sum(pairs) > 1000 AS many_pairs,
       count(*) FILTER (WHERE kernel_off > 0 OR batch_off > 0 OR NOT lookups_ok) AS entries_off
FROM ragstore.debug_check_distances(20261208);
RESET ragstore.debug_functions;
