-- The semantic cache: cache_store, cache_lookup (threshold, model, scope, dimension, expiry),
-- expire_cache, cache_create_index; defaults and errors with SQLSTATEs.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

SELECT ragstore.cache_store('What is PostgreSQL?', '[1,0,0]', 'An object-relational database.', 'reg-llm') AS e1 \gset
SELECT ragstore.cache_store('What is Postgres?', '[0.9,0.1,0]', 'A database.', 'reg-llm', tenant => 'acme') AS e2 \gset
SELECT ragstore.cache_store('What is Postgres?', '[0.9,0.1,0]', 'Alice''s answer.', 'reg-llm', tenant => 'acme', user_id => 'alice') AS e3 \gset
SELECT ragstore.cache_store('Name a fruit', '[0,1,0]', 'Apple.', 'reg-llm', ttl => interval '1 hour',
                            metadata => '{"source": "test"}') AS e4 \gset
SELECT ragstore.cache_store('Same in 4 dims', '[1,0,0,0]', 'Four.', 'reg-llm') AS e5 \gset
-- default TTL is the cache_ttl setting (1 day); expires_at > created_at
SELECT id = :e1 AS first, expires_at - created_at AS ttl, dims, metadata FROM ragstore.cache_entries WHERE id IN (:e1, :e4, :e5) ORDER BY id;

-- nearest entry within the threshold (default 0.1), same model and scope (NULL tenant/user)
SELECT entry_id = :e1 AS is_e1, response, round(distance::numeric, 6) AS distance
FROM ragstore.cache_lookup('[1,0.05,0]', 'reg-llm');
-- exact repeat: distance 0
SELECT entry_id = :e1 AS is_e1, distance FROM ragstore.cache_lookup('[2,0,0]', 'reg-llm');
-- too far: no row; a larger max_distance finds it
SELECT count(*) FROM ragstore.cache_lookup('[1,0.6,0]', 'reg-llm');
SELECT entry_id = :e1 AS is_e1 FROM ragstore.cache_lookup('[1,0.6,0]', 'reg-llm', max_distance => 0.2);
-- another model: nothing
SELECT count(*) FROM ragstore.cache_lookup('[1,0,0]', 'other-llm');
-- scope: tenant-wide and per-user entries are separate
SELECT response FROM ragstore.cache_lookup('[0.9,0.1,0]', 'reg-llm', tenant => 'acme');
SELECT response FROM ragstore.cache_lookup('[0.9,0.1,0]', 'reg-llm', tenant => 'acme', user_id => 'alice');
SELECT count(*) FROM ragstore.cache_lookup('[0.9,0.1,0]', 'reg-llm', tenant => 'acme', user_id => 'bob');
SELECT count(*) FROM ragstore.cache_lookup('[0.9,0.1,0]', 'reg-llm', tenant => 'other');
-- the global lookup finds the global entry e1, not the tenant's nearer one
SELECT entry_id = :e1 AS is_e1 FROM ragstore.cache_lookup('[0.9,0.1,0]', 'reg-llm', max_distance => 0.5);
-- dimension: a 4-dim query only sees 4-dim entries (no dimension-mismatch error)
SELECT entry_id = :e5 AS is_e5, distance FROM ragstore.cache_lookup('[1,0,0,0]', 'reg-llm');
SELECT count(*) FROM ragstore.cache_lookup('[1,0,0,0,0]', 'reg-llm');
-- lookups only read: the function is STABLE and runs in a read-only transaction
SELECT provolatile FROM pg_proc WHERE oid = 'ragstore.cache_lookup'::regproc;
BEGIN TRANSACTION READ ONLY;
SELECT response FROM ragstore.cache_lookup('[1,0,0]', 'reg-llm');
COMMIT;

-- expiry: an expired entry is never returned, and expire_cache deletes it
INSERT INTO ragstore.cache_entries (model, prompt, embedding, response, created_at, expires_at)
VALUES ('reg-llm', 'old', '[0,0,1]', 'stale', now() - interval '2 days', now() - interval '1 day'),
       ('reg-llm', 'old2', '[0,0,1]', 'stale2', now() - interval '2 days', now() - interval '1 day'),
       ('reg-llm', 'old3', '[0,0,1]', 'stale3', now() - interval '2 days', now() - interval '1 day');
SELECT count(*) FROM ragstore.cache_lookup('[0,0,1]', 'reg-llm');
SELECT ragstore.expire_cache(batch_size => 2);
SELECT count(*) FROM ragstore.cache_entries WHERE expires_at <= now();
SELECT ragstore.expire_cache();
SELECT count(*) FROM ragstore.cache_entries WHERE model = 'reg-llm';

-- errors
\set VERBOSITY default
SELECT * FROM ragstore.cache_lookup(NULL, 'reg-llm');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ragstore.cache_lookup('[1,0,0]', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ragstore.cache_lookup('[0,0,0]', 'reg-llm');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ragstore.cache_lookup('[1,0,0]', 'reg-llm', max_distance => -0.1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ragstore.cache_lookup('[1,0,0]', 'reg-llm', max_distance => 2.5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.cache_store(NULL, '[1,0,0]', 'r', 'reg-llm');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.cache_store('p', '[1,0,0]', NULL, 'reg-llm');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.cache_store('p', '[0,0]', 'r', 'reg-llm');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.cache_store('p', '[1,0]', 'r', 'reg-llm', ttl => interval '0');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.cache_store('p', '[1,0]', 'r', 'reg-llm', ttl => interval '-1 hour');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.expire_cache(batch_size => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.expire_cache(max_batches => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.cache_create_index(0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.cache_create_index(20000);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY sqlstate
INSERT INTO ragstore.cache_entries (model, prompt, embedding, response, expires_at)
VALUES ('reg-llm', 'p', '[1]', 'r', now() - interval '1 s');
DELETE FROM ragstore.cache_entries WHERE model = 'reg-llm';
