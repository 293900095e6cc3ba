-- The interaction log: ragstore.log_interaction (defaults, every error with its SQLSTATE),
-- direct INSERT and COPY, the CHECK constraints, immutability, settings.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

-- defaults: only request_model is required; started_at defaults to now()
SELECT ragstore.log_interaction(request_model => 'reg-model-a') > 0 AS logged;
SELECT operation, provider, user_id, input_tokens, cost, metadata, tags, started_at BETWEEN now() - interval '1 hour' AND now() AS started_now,
       finished_at IS NULL AS no_finish, prompt IS NULL AS no_content, cache_outcome
FROM ragstore.interactions WHERE request_model = 'reg-model-a';

-- every column, with durations in ms
SELECT ragstore.log_interaction(
  request_model => 'reg-model-b', operation => 'chat', provider => 'openai',
  response_model => 'reg-model-b-2024', started_at => '2030-01-02 10:00:00+00',
  duration_ms => 1500, time_to_first_token_ms => 250.5, conversation_id => 'conv-1',
  user_id => 'alice', tenant => 'acme', input_tokens => 100, output_tokens => 20,
  cache_read_input_tokens => 64, cache_creation_input_tokens => 0, reasoning_output_tokens => 5,
  cost => 0.0012345678901234567890, finish_reasons => ARRAY['stop'], temperature => 0.2,
  top_p => 0.9, max_tokens => 256, cache_outcome => 'miss', cache_distance => 0.31,
  prompt => 'What is PostgreSQL?', response => 'A database.', prompt_embedding => '[1,2,3]',
  metadata => '{"route": "faq"}', tags => ARRAY['faq', 'v2']) > 0 AS logged;
SELECT started_at, first_token_at, finished_at, operation, provider, response_model,
       conversation_id, user_id, tenant, input_tokens, output_tokens, cache_read_input_tokens,
       cache_creation_input_tokens, reasoning_output_tokens, cost, finish_reasons, error_type,
       temperature, top_p, max_tokens, cache_outcome, cache_entry_id, cache_distance, prompt,
       response, prompt_embedding, metadata, tags
FROM ragstore.interactions WHERE request_model = 'reg-model-b';

-- explicit timestamps, an error call, a cache hit
SELECT ragstore.log_interaction(request_model => 'reg-model-b', started_at => '2030-01-02 11:00:00+00',
  first_token_at => '2030-01-02 11:00:00.1+00', finished_at => '2030-01-02 11:00:02+00',
  error_type => 'rate_limit_exceeded', user_id => 'alice', tenant => 'acme') > 0 AS logged;
SELECT ragstore.log_interaction(request_model => 'reg-model-b', started_at => '2030-01-02 12:00:00+00',
  duration_ms => 5, cache_outcome => 'hit', cache_entry_id => 42, cache_distance => 0.03,
  user_id => 'alice', tenant => 'acme', operation => 'embeddings') > 0 AS logged;
SELECT count(*), count(error_type), count(*) FILTER (WHERE cache_outcome = 'hit')
FROM ragstore.interactions WHERE request_model = 'reg-model-b';

-- ids increase
SELECT ragstore.log_interaction(request_model => 'reg-ids') < ragstore.log_interaction(request_model => 'reg-ids') AS increasing;

-- bad input: clear messages, SQLSTATE 22023 (22004 for a NULL model)
\set VERBOSITY default
SELECT ragstore.log_interaction(request_model => NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', input_tokens => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', output_tokens => -5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', reasoning_output_tokens => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', cost => -0.01);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', operation => 'dance');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', operation => NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', started_at => '2030-01-02 10:00+00', finished_at => '2030-01-02 09:59+00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', started_at => '2030-01-02 10:00+00', duration_ms => -1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', started_at => '2030-01-02 10:00+00', duration_ms => 10, time_to_first_token_ms => 20);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', finished_at => now(), duration_ms => 10);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', first_token_at => now(), time_to_first_token_ms => 10);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', temperature => -0.5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', top_p => 1.5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', max_tokens => 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', cache_outcome => 'maybe');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', cache_outcome => 'hit');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', cache_outcome => 'miss', cache_entry_id => 3);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', cache_distance => -0.1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', started_at => 'infinity');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', input_tokens => 3000000000);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', max_tokens => 2147483648);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', top_p => 'NaN');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.log_interaction(request_model => 'x', cache_entry_id => 7);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
BEGIN TRANSACTION READ ONLY;
SELECT ragstore.log_interaction(request_model => 'x');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
\set VERBOSITY sqlstate
-- nothing was logged by the failed calls
SELECT count(*) FROM ragstore.interactions WHERE request_model = 'x';

-- direct INSERT and COPY are checked by the same rules (SQLSTATE 23514)
INSERT INTO ragstore.interactions (request_model, input_tokens) VALUES ('x', -1);
INSERT INTO ragstore.interactions (request_model, cost) VALUES ('x', -1);
INSERT INTO ragstore.interactions (request_model, operation) VALUES ('x', 'dance');
INSERT INTO ragstore.interactions (request_model, started_at, finished_at) VALUES ('x', now(), now() - interval '1 s');
INSERT INTO ragstore.interactions (request_model, started_at) VALUES ('x', 'infinity');
INSERT INTO ragstore.interactions (request_model, cache_outcome) VALUES ('x', 'hit');
INSERT INTO ragstore.interactions (request_model, started_at, input_tokens, output_tokens, cost)
  VALUES ('reg-insert', '2030-01-03 08:00+00', 1, 2, 0.5) RETURNING id > 0 AS inserted;
COPY ragstore.interactions (started_at, finished_at, request_model, user_id, input_tokens, output_tokens, cost, tags) FROM stdin;
2030-01-03 09:00:00+00	2030-01-03 09:00:01+00	reg-copy	bob	10	1	0.01	{a}
2030-01-03 09:05:00+00	2030-01-03 09:05:03+00	reg-copy	bob	20	2	0.02	{}
2030-01-04 09:10:00+00	\N	reg-copy	carol	30	3	0.03	{b,c}
\.
COPY ragstore.interactions (request_model, input_tokens) FROM stdin;
reg-copy-bad	-3
\.
-- the message names the broken rule (one CHECK constraint, interactions_valid, holds them all)
\set VERBOSITY default
COPY ragstore.interactions (request_model, operation) FROM stdin;
reg-copy-bad	dance
\.
\echo SQLSTATE :LAST_ERROR_SQLSTATE
COPY ragstore.interactions (request_model, started_at, finished_at) FROM stdin;
reg-copy-bad	2030-01-03 10:00:00+00	2030-01-03 09:00:00+00
\.
\echo SQLSTATE :LAST_ERROR_SQLSTATE
COPY ragstore.interactions (request_model, cache_outcome, cache_entry_id) FROM stdin;
reg-copy-bad	miss	12
\.
\echo SQLSTATE :LAST_ERROR_SQLSTATE
COPY ragstore.interactions (request_model, cache_entry_id) FROM stdin;
reg-copy-bad	12
\.
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO ragstore.interactions (request_model, top_p, temperature) VALUES ('x', 1.5, 0.5);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY sqlstate
SELECT count(*) FROM ragstore.interactions WHERE request_model = 'reg-copy-bad';
SELECT user_id, count(*), sum(input_tokens), sum(cost) FROM ragstore.interactions
WHERE request_model = 'reg-copy' GROUP BY 1 ORDER BY 1;
-- COPY and INSERT marked their days for the rollup refresh
SELECT DISTINCT day FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-01-01' AND '2030-01-31' ORDER BY 1;

-- log_interaction queues each UTC day once per (sub)transaction, in that (sub)transaction: a
-- rolled-back savepoint takes its queue row with it, and the day is queued again after it.
-- (Everything in rolled-back transactions: later tests count the default partition's rows.)
BEGIN;
DELETE FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-02-01' AND '2030-02-28';
SELECT count(ragstore.log_interaction(request_model => 'reg-queue', started_at => timestamptz '2030-02-01 10:00+00' + g * interval '1 minute')) FROM generate_series(1, 5) g;
SELECT ragstore.log_interaction(request_model => 'reg-queue', started_at => '2030-02-02 10:00+00') > 0 AS logged;
SELECT day, count(*) FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-02-01' AND '2030-02-28' GROUP BY 1 ORDER BY 1;
SAVEPOINT s1;
SELECT ragstore.log_interaction(request_model => 'reg-queue', started_at => '2030-02-03 10:00+00') > 0 AS logged;
SELECT day, count(*) FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-02-01' AND '2030-02-28' GROUP BY 1 ORDER BY 1;
ROLLBACK TO SAVEPOINT s1;
SELECT day, count(*) FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-02-01' AND '2030-02-28' GROUP BY 1 ORDER BY 1;
SELECT ragstore.log_interaction(request_model => 'reg-queue', started_at => '2030-02-03 11:00+00') > 0 AS logged;
SELECT day, count(*) FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-02-01' AND '2030-02-28' GROUP BY 1 ORDER BY 1;
SELECT date_trunc('day', started_at) AS day, count(*) FROM ragstore.interactions WHERE request_model = 'reg-queue' GROUP BY 1 ORDER BY 1;
-- many days interleaved in one transaction: still one queue row per day
DELETE FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-03-01' AND '2030-03-31';
SELECT count(ragstore.log_interaction(request_model => 'reg-queue', started_at => timestamptz '2030-03-01 10:00+00' + (g % 30) * interval '1 day')) FROM generate_series(1, 300) g;
SELECT count(*) AS queue_rows, count(DISTINCT day) AS days FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-03-01' AND '2030-03-31';
-- late content (started more than an hour ago) is queued for apply_retention
DELETE FROM ragstore.content_late_days;
SELECT ragstore.log_interaction(request_model => 'reg-queue', started_at => now() - interval '3 days', prompt => 'late') > 0 AS logged;
SELECT ragstore.log_interaction(request_model => 'reg-queue', started_at => now() - interval '5 days') > 0 AS logged;
SELECT ragstore.log_interaction(request_model => 'reg-queue', prompt => 'on time') > 0 AS logged;
SELECT array_agg(day) = ARRAY[(now() - interval '3 days')::date] AS only_the_late_day FROM ragstore.content_late_days;
ROLLBACK;

-- INSERT and COPY: the statement trigger queues each distinct day of a statement once, whatever
-- the order of the rows, and a day once per transaction across statements
BEGIN;
DELETE FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-02-01' AND '2030-02-28';
DELETE FROM ragstore.content_late_days;
COPY ragstore.interactions (started_at, request_model) FROM stdin;
2030-02-10 01:00:00+00	reg-trigger
2030-02-11 01:00:00+00	reg-trigger
2030-02-10 02:00:00+00	reg-trigger
2030-02-12 01:00:00+00	reg-trigger
2030-02-11 02:00:00+00	reg-trigger
2030-02-10 03:00:00+00	reg-trigger
\.
INSERT INTO ragstore.interactions (started_at, request_model) VALUES ('2030-02-12 05:00+00', 'reg-trigger');
INSERT INTO ragstore.interactions (started_at, request_model) VALUES ('2030-02-13 05:00+00', 'reg-trigger');
SELECT day, count(*) FROM ragstore.usage_dirty_days WHERE day BETWEEN '2030-02-01' AND '2030-02-28' GROUP BY 1 ORDER BY 1;
INSERT INTO ragstore.interactions (started_at, request_model, response) VALUES (now() - interval '2 days', 'reg-trigger', 'late');
SELECT array_agg(day) = ARRAY[(now() - interval '2 days')::date] AS only_the_late_day FROM ragstore.content_late_days;
ROLLBACK;

-- with another INSERT trigger on the log, log_interaction takes the general path (an INSERT
-- statement): the trigger fires, and the statement trigger queues the day
BEGIN;
CREATE TABLE reg_seen (id bigint, request_model text);
CREATE FUNCTION reg_seen_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO reg_seen VALUES (NEW.id, NEW.request_model);
  RETURN NEW;
END
$$;
CREATE TRIGGER reg_seen AFTER INSERT ON ragstore.interactions FOR EACH ROW EXECUTE FUNCTION reg_seen_trigger();
SELECT ragstore.log_interaction(request_model => 'reg-general', started_at => '2030-02-06 10:00+00', input_tokens => 4) AS general_id \gset
SELECT id = :general_id AS same_id, request_model FROM reg_seen;
SELECT input_tokens FROM ragstore.interactions WHERE id = :general_id;
SELECT count(*) FROM ragstore.usage_dirty_days WHERE day = '2030-02-06';
SAVEPOINT s2;
SELECT ragstore.log_interaction(request_model => 'reg-general', input_tokens => -1);
ROLLBACK TO SAVEPOINT s2;
SELECT count(*) FROM reg_seen;
ROLLBACK;

-- the log is append-only (55000), for everyone, unless a maintenance function runs
UPDATE ragstore.interactions SET cost = 0 WHERE request_model = 'reg-copy';
DELETE FROM ragstore.interactions WHERE request_model = 'reg-copy';
TRUNCATE ragstore.interactions;
SELECT count(*) FROM ragstore.interactions WHERE request_model = 'reg-copy';

-- settings: defaults, changes, validation (22023; unknown name 23503)
SELECT name, value, is_default FROM ragstore.effective_settings ORDER BY name;
SELECT ragstore.setting('retention');
SELECT ragstore.setting('nope');
INSERT INTO ragstore.settings (name, value) VALUES ('nope', '1');
INSERT INTO ragstore.settings (name, value) VALUES ('retention', 'forever');
INSERT INTO ragstore.settings (name, value) VALUES ('retention', '-1 day');
INSERT INTO ragstore.settings (name, value) VALUES ('partition_interval', '1 month');
INSERT INTO ragstore.settings (name, value) VALUES ('partition_interval', '10 minutes');
INSERT INTO ragstore.settings (name, value) VALUES ('partitions_ahead', '0');
INSERT INTO ragstore.settings (name, value) VALUES ('partitions_ahead', 'many');
INSERT INTO ragstore.settings (name, value) VALUES ('content_retention', ' OFF ');
INSERT INTO ragstore.settings (name, value) VALUES ('cache_ttl', '2 hours');
SELECT name, value FROM ragstore.settings ORDER BY name;
SELECT ragstore._setting_interval('content_retention') IS NULL AS content_kept_forever;
DELETE FROM ragstore.settings;
