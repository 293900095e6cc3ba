-- Partitions, the default partition, run_maintenance, rollups, retention. Fixed dates far in
-- the past (2001, 2002) and future (2031) keep the output independent of today's date.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';

-- create_partitions over an explicit range returns what it created, then nothing on a repeat
SELECT * FROM ragstore.create_partitions('2031-03-01 05:00+00', '2031-03-03 00:00+00');
SELECT count(*) FROM ragstore.create_partitions('2031-03-01', '2031-03-03');
SELECT partition, range_start, range_end FROM ragstore.interaction_partitions()
WHERE range_start >= '2031-01-01' ORDER BY range_start;
-- a row lands in its partition
SELECT ragstore.log_interaction(request_model => 'reg-part', started_at => '2031-03-02 10:00+00') > 0 AS logged;
SELECT tableoid::regclass FROM ragstore.interactions WHERE request_model = 'reg-part';
-- the default: with to_time omitted, partitions_ahead partitions from from_time
SELECT count(*) FROM ragstore.create_partitions('2031-06-01');
SELECT count(*) FROM ragstore.interaction_partitions() WHERE range_start >= '2031-06-01';
-- errors
\set VERBOSITY default
SELECT ragstore.create_partitions(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.create_partitions('2031-03-05', '2031-03-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.create_partitions('2031-03-05', 'infinity');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ragstore.create_partitions('2001-01-01', '2100-01-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY sqlstate

-- a row for a day without a partition lands in the default partition...
SELECT ragstore.log_interaction(request_model => 'reg-late', started_at => '2031-09-09 23:59:59+00',
                                input_tokens => 7) > 0 AS logged;
SELECT tableoid::regclass FROM ragstore.interactions WHERE request_model = 'reg-late';
-- ...and creating the partition for that day moves it (same transaction, nothing lost)
SELECT * FROM ragstore.create_partitions('2031-09-09', '2031-09-09');
SELECT tableoid::regclass, input_tokens FROM ragstore.interactions WHERE request_model = 'reg-late';
SELECT count(*) FROM ragstore.interactions_default WHERE request_model = 'reg-late';
-- the moved partition has the log's indexes, constraints and immutability
SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'ragstore.interactions_p20310909'::regclass ORDER BY 1;
UPDATE ragstore.interactions SET input_tokens = 1 WHERE request_model = 'reg-late';
INSERT INTO ragstore.interactions_p20310909 (request_model, started_at) VALUES ('x', '2031-09-10 00:00+00');

-- a changed partition_interval: new ranges are weeks, gaps next to existing partitions filled
INSERT INTO ragstore.settings VALUES ('partition_interval', '7 days');
SELECT * FROM ragstore.create_partitions('2031-09-09', '2031-09-09');
SELECT partition, range_start, range_end FROM ragstore.interaction_partitions()
WHERE range_start >= '2031-09-01' AND range_end <= '2031-09-30' ORDER BY range_start;
DELETE FROM ragstore.settings WHERE name = 'partition_interval';

-- rollups: refresh recomputes only the dirty days
SELECT ragstore.refresh_usage_daily() > 0 AS refreshed;
SELECT ragstore.refresh_usage_daily() AS nothing_left;
SELECT day, tenant, user_id, request_model, calls, errors, input_tokens, output_tokens,
       cached_input_tokens, reasoning_output_tokens, cost, latency_p50_ms, latency_p95_ms,
       latency_p99_ms, ttft_p50_ms, ttft_p95_ms, cache_hits, cache_misses, cache_hit_rate
FROM ragstore.usage_daily WHERE day BETWEEN '2030-01-01' AND '2030-12-31' ORDER BY 1, 2, 3, 4;
-- latency percentiles over 100 calls of 1..100 ms; 10 hits, 30 misses
SELECT count(ragstore.log_interaction(request_model => 'reg-pct', started_at => '2030-02-01 12:00+00',
         duration_ms => g, time_to_first_token_ms => g / 2.0, input_tokens => 1, cost => 0.25,
         cache_outcome => CASE WHEN g <= 10 THEN 'hit' WHEN g <= 40 THEN 'miss' END,
         cache_entry_id => CASE WHEN g <= 10 THEN g END))
FROM generate_series(1, 100) g;
SELECT ragstore.refresh_usage_daily();
SELECT calls, input_tokens, cost, latency_p50_ms, latency_p95_ms, latency_p99_ms, ttft_p50_ms,
       ttft_p95_ms, cache_hits, cache_misses, cache_hit_rate
FROM ragstore.usage_daily WHERE request_model = 'reg-pct';
-- one more call that day: only that day is recomputed, and it counts
SELECT ragstore.log_interaction(request_model => 'reg-pct', started_at => '2030-02-01 13:00+00', duration_ms => 1000, error_type => 'timeout') > 0;
SELECT refreshed_at AS before_refresh FROM ragstore.usage_daily WHERE day = '2030-01-02' \gset
SELECT ragstore.refresh_usage_daily();
SELECT calls, errors, latency_p99_ms > 100 AS p99_moved FROM ragstore.usage_daily WHERE request_model = 'reg-pct';
SELECT refreshed_at = :'before_refresh' AS other_day_untouched FROM ragstore.usage_daily WHERE day = '2030-01-02';
-- a rolled-back insert leaves nothing to refresh
BEGIN;
SELECT ragstore.log_interaction(request_model => 'reg-rollback', started_at => '2030-03-01') > 0;
ROLLBACK;
SELECT count(*) FROM ragstore.usage_dirty_days WHERE day = '2030-03-01';

-- retention: partitions wholly older than 90 days are dropped, content older than 30 days is
-- cleared, the rest is kept; rollups of dropped days stay
SELECT * FROM ragstore.create_partitions('2001-05-01', '2001-05-02');
SELECT ragstore.log_interaction(request_model => 'reg-old', started_at => '2001-05-01 10:00+00',
  prompt => 'old prompt', response => 'old answer', input_tokens => 3) > 0;
SELECT ragstore.log_interaction(request_model => 'reg-mid', started_at => now() - interval '40 days',
  prompt => 'mid prompt', response => 'mid answer', prompt_embedding => '[1,1]') > 0;
SELECT ragstore.log_interaction(request_model => 'reg-new', started_at => now() - interval '1 day',
  prompt => 'new prompt', response => 'new answer') > 0;
SELECT count(*) AS mid_partition FROM ragstore.create_partitions(now() - interval '40 days', now() - interval '40 days');
SELECT ragstore.refresh_usage_daily() > 0;
SELECT * FROM ragstore.apply_retention();
SELECT request_model, prompt, response, prompt_embedding FROM ragstore.interactions
WHERE request_model IN ('reg-old', 'reg-mid', 'reg-new') ORDER BY started_at;
SELECT count(*) FROM ragstore.interaction_partitions() WHERE range_end <= '2001-06-01';
SELECT calls, input_tokens FROM ragstore.usage_daily WHERE day = '2001-05-01';
-- a second run has nothing left to do
SELECT * FROM ragstore.apply_retention();
-- a late row for the dropped day does not shrink its rollup
SELECT ragstore.log_interaction(request_model => 'reg-old', started_at => '2001-05-01 11:00+00') > 0;
SELECT ragstore.refresh_usage_daily();
SELECT calls, input_tokens FROM ragstore.usage_daily WHERE day = '2001-05-01';
-- run_maintenance moves that row out of the default partition, then the next run drops it
SELECT ragstore.run_maintenance() - 'partitions_created' - 'cache_expired' - 'days_refreshed';
SELECT count(*) FROM ragstore.interactions_default;
SELECT (ragstore.run_maintenance()->>'partitions_dropped')::int AS dropped;
SELECT count(*) FROM ragstore.interactions WHERE request_model = 'reg-old';
-- a row logged late, older than the content watermark, is cleared by the next run (its day
-- was queued by the insert trigger); rescan_content scans everything
SELECT ragstore.log_interaction(request_model => 'reg-mid', started_at => now() - interval '41 days',
  prompt => 'late prompt') > 0;
SELECT count(*) FROM ragstore.create_partitions(now() - interval '41 days', now() - interval '41 days');
SELECT count(*) FROM ragstore.content_late_days;
SELECT cleared_rows FROM ragstore.apply_retention();
SELECT count(prompt) FROM ragstore.interactions WHERE request_model = 'reg-mid';
SELECT count(*) FROM ragstore.content_late_days;
SELECT cleared_rows FROM ragstore.apply_retention(rescan_content => true);
-- retention off: nothing is dropped or cleared
INSERT INTO ragstore.settings VALUES ('retention', 'off'), ('content_retention', 'off');
SELECT * FROM ragstore.create_partitions('2001-05-03', '2001-05-03');
SELECT * FROM ragstore.apply_retention();
DELETE FROM ragstore.settings;
SELECT dropped_partitions FROM ragstore.apply_retention();
