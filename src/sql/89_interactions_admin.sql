-- ragstore: maintenance entry point, privileges and pg_dump configuration of the interaction
-- log and the semantic cache.

-- ragstore.run_maintenance() -> jsonb: the one function to schedule (e.g. hourly from cron or
-- pg_cron). In this order, in one transaction:
--   1. expire_cache()                         expired cache entries deleted (in batches)
--   2. refresh_usage_daily()                  rollups of the days that received rows
--   3. apply_retention()                      old partitions dropped, old content cleared
--   4. rows of the default partition moved into new partitions of their own range
--   5. create_partitions()                    partitions_ahead partitions created ahead of now
-- Returns counts, e.g. {"cache_expired": 0, "partitions_dropped": 1, "content_cleared": 10,
-- "rows_moved": 3, "partitions_created": 8, "days_refreshed": 2}.
-- Locks: every step locks the log before the default partition (the order inserters use), so
-- maintenance never deadlocks with logging; logging waits only while a partition is dropped
-- (3) or created (4, 5), usually milliseconds. Owner only.
CREATE FUNCTION ragstore.run_maintenance() RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  stride interval := ragstore.setting('partition_interval')::interval;
  expired bigint;
  ret record;
  before_rows bigint;
  after_rows bigint;
  created integer := 0;
  n integer;
  refreshed integer;
  b timestamptz;
BEGIN
  expired := ragstore.expire_cache();
  refreshed := ragstore.refresh_usage_daily();
  ret := ragstore.apply_retention();
  SELECT count(*) INTO before_rows FROM ragstore.interactions_default;
  FOR b IN
    SELECT DISTINCT date_bin(stride, started_at, ragstore._partition_origin())
    FROM ragstore.interactions_default ORDER BY 1
  LOOP
    SELECT count(*) INTO n FROM ragstore.create_partitions(b, b);
    created := created + n;
  END LOOP;
  SELECT count(*) INTO after_rows FROM ragstore.interactions_default;
  SELECT count(*) INTO n FROM ragstore.create_partitions();
  created := created + n;
  RETURN jsonb_build_object(
    'cache_expired', expired,
    'partitions_dropped', cardinality(ret.dropped_partitions),
    'content_cleared', ret.cleared_rows,
    'rows_moved', before_rows - after_rows,
    'partitions_created', created,
    'days_refreshed', refreshed);
END
$$;

-- Metadata of the log without content (prompt, response, prompt_embedding): what readers see.
CREATE VIEW ragstore.interactions_metadata AS
  SELECT id, started_at, first_token_at, finished_at, operation, provider, request_model,
         response_model, conversation_id, user_id, tenant, input_tokens, output_tokens,
         cache_read_input_tokens, cache_creation_input_tokens, reasoning_output_tokens, cost,
         finish_reasons, error_type, temperature, top_p, max_tokens, cache_outcome,
         cache_entry_id, cache_distance, metadata, tags
  FROM ragstore.interactions;

-- ---------------------------------------------------------------------------------------------
-- Privileges. Nobody but the owner (the role that ran CREATE EXTENSION) may create objects in
-- the schema, alter or drop these objects, or update/delete log rows. Maintenance functions are
-- owner-only. Partitions get no grants: rows are reached through ragstore.interactions, whose
-- privileges apply.
REVOKE ALL ON FUNCTION ragstore.create_partitions(timestamptz, timestamptz),
                       ragstore.apply_retention(boolean),
                       ragstore.refresh_usage_daily(),
                       ragstore.run_maintenance(),
                       ragstore.expire_cache(integer, integer),
                       ragstore.cache_create_index(integer),
                       ragstore._attach_interaction_partition(timestamptz, timestamptz)
  FROM PUBLIC;

-- writer: log calls (function or INSERT/COPY), use the cache. INSERT ... RETURNING id needs
-- SELECT on id; no other column of the log is readable.
GRANT INSERT ON ragstore.interactions TO ragstore_writer;
GRANT SELECT (id) ON ragstore.interactions TO ragstore_writer;
GRANT INSERT ON ragstore.usage_dirty_days, ragstore.content_late_days TO ragstore_writer;
GRANT USAGE ON SEQUENCE ragstore.interactions_id_seq TO ragstore_writer;
GRANT SELECT, INSERT ON ragstore.cache_entries TO ragstore_writer;
GRANT SELECT ON ragstore.setting_definitions, ragstore.settings, ragstore.effective_settings
  TO ragstore_writer, ragstore_reader;

-- reader: rollups, settings and metadata; never prompt, response or embeddings.
GRANT SELECT ON ragstore.usage_daily, ragstore.interactions_metadata TO ragstore_reader;
GRANT SELECT (id, started_at, first_token_at, finished_at, operation, provider, request_model,
              response_model, conversation_id, user_id, tenant, input_tokens, output_tokens,
              cache_read_input_tokens, cache_creation_input_tokens, reasoning_output_tokens,
              cost, finish_reasons, error_type, temperature, top_p, max_tokens, cache_outcome,
              cache_entry_id, cache_distance, metadata, tags)
  ON ragstore.interactions TO ragstore_reader;
GRANT SELECT (id, model, tenant, user_id, dims, metadata, created_at, expires_at)
  ON ragstore.cache_entries TO ragstore_reader;

-- auditor: a reader that may also read content.
GRANT SELECT ON ragstore.interactions, ragstore.cache_entries TO ragstore_auditor;

-- ---------------------------------------------------------------------------------------------
-- pg_dump: the rows of these extension tables are dumped (and their sequences' positions), so
-- dump + restore into a database where CREATE EXTENSION ragstore runs keeps the log and the
-- cache. Partitions created by create_partitions() after CREATE EXTENSION are not members of
-- the extension: pg_dump dumps them (definition, ATTACH and rows) like any table.
SELECT pg_catalog.pg_extension_config_dump('ragstore.interactions_default', '');
SELECT pg_catalog.pg_extension_config_dump('ragstore.interactions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ragstore.usage_daily', '');
SELECT pg_catalog.pg_extension_config_dump('ragstore.usage_dirty_days', '');
SELECT pg_catalog.pg_extension_config_dump('ragstore.content_late_days', '');
SELECT pg_catalog.pg_extension_config_dump('ragstore.settings', '');
SELECT pg_catalog.pg_extension_config_dump('ragstore.maintenance_state', '');
SELECT pg_catalog.pg_extension_config_dump('ragstore.cache_entries', '');
SELECT pg_catalog.pg_extension_config_dump('ragstore.cache_entries_id_seq', '');
