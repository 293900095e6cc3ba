-- Roles: ragstore_writer logs and uses the cache, ragstore_reader reads rollups and metadata
-- but no content, ragstore_auditor reads content; nobody but the owner changes the schema or
-- runs maintenance. Errors are 42501 (insufficient_privilege).
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'ragstore\_%' ORDER BY 1;
SELECT ragstore.cache_store('role test', '[1,1,1]', 'role answer', 'reg-roles') > 0 AS stored;

SET ROLE ragstore_writer;
SELECT ragstore.log_interaction(request_model => 'reg-roles', started_at => '2030-05-01 10:00+00',
  prompt => 'secret prompt', response => 'secret answer', user_id => 'w') > 0 AS logged;
INSERT INTO ragstore.interactions (request_model, started_at) VALUES ('reg-roles', '2030-05-01 11:00+00');
COPY ragstore.interactions (request_model, started_at) FROM stdin;
reg-roles	2030-05-01 12:00:00+00
\.
SELECT response, distance FROM ragstore.cache_lookup('[1,1,1]', 'reg-roles');
SELECT ragstore.cache_store('writer entry', '[1,2,1]', 'w answer', 'reg-roles') > 0 AS stored;
-- the writer cannot read the log (only ids, for INSERT ... RETURNING id), change it or run maintenance
SELECT user_id FROM ragstore.interactions;
SELECT prompt FROM ragstore.interactions;
UPDATE ragstore.interactions SET cost = 0;
DELETE FROM ragstore.interactions;
SELECT ragstore.apply_retention();
SELECT ragstore.run_maintenance();
SELECT ragstore.create_partitions();
SELECT ragstore.refresh_usage_daily();
SELECT ragstore.expire_cache();
DELETE FROM ragstore.cache_entries;
CREATE TABLE ragstore.intruder (i int);
ALTER TABLE ragstore.interactions ADD COLUMN x int;
INSERT INTO ragstore.settings VALUES ('retention', '1 day');
RESET ROLE;
SELECT ragstore.refresh_usage_daily() > 0 AS refreshed;

SET ROLE ragstore_reader;
-- metadata and rollups: yes
SELECT request_model, user_id, started_at FROM ragstore.interactions WHERE request_model = 'reg-roles' ORDER BY started_at;
SELECT count(*) FROM ragstore.interactions_metadata WHERE request_model = 'reg-roles';
SELECT day, calls FROM ragstore.usage_daily WHERE request_model = 'reg-roles';
SELECT name FROM ragstore.effective_settings WHERE name = 'retention';
SELECT model, dims FROM ragstore.cache_entries WHERE model = 'reg-roles' ORDER BY id;
-- content: no, neither in the log nor in the cache, nor through a partition
SELECT prompt FROM ragstore.interactions;
SELECT response FROM ragstore.interactions;
SELECT prompt_embedding FROM ragstore.interactions;
SELECT * FROM ragstore.interactions;
SELECT * FROM ragstore.interactions_default;
SELECT response FROM ragstore.cache_entries;
SELECT * FROM ragstore.cache_lookup('[1,1,1]', 'reg-roles');
-- and no writes
SELECT ragstore.log_interaction(request_model => 'reg-roles');
INSERT INTO ragstore.usage_daily (day, request_model, calls, errors, input_tokens, output_tokens,
  cached_input_tokens, cache_creation_input_tokens, reasoning_output_tokens, cost, cache_hits, cache_misses)
  VALUES ('2030-01-01', 'x', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
DROP TABLE ragstore.usage_daily;
RESET ROLE;

SET ROLE ragstore_auditor;
SELECT prompt, response FROM ragstore.interactions WHERE request_model = 'reg-roles' ORDER BY started_at;
SELECT response FROM ragstore.cache_entries WHERE model = 'reg-roles' ORDER BY id;
SELECT count(*) FROM ragstore.usage_daily WHERE request_model = 'reg-roles';
UPDATE ragstore.interactions SET prompt = NULL;
RESET ROLE;

-- maintenance functions are not executable by PUBLIC
SELECT p.oid::regprocedure, has_function_privilege('ragstore_writer', p.oid, 'EXECUTE') AS writer
FROM pg_proc p WHERE p.pronamespace = 'ragstore'::regnamespace
  AND p.proname IN ('apply_retention', 'create_partitions', 'refresh_usage_daily', 'run_maintenance', 'expire_cache')
ORDER BY 1::text;
DELETE FROM ragstore.cache_entries WHERE model = 'reg-roles';
