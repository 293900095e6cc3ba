-- ragstore: the AI-interaction log. One immutable row per LLM call, range-partitioned
-- by started_at, with columns named after the OpenTelemetry GenAI semantic conventions; daily
-- rollups refreshed incrementally; retention by dropping whole partitions; settings in a table.
--
-- Rules kept everywhere in this file (the log must work through PgBouncer in transaction
-- pooling mode): no session SET (only function-level SET clauses and set_config(..., true)),
-- no session advisory locks, no temporary tables. Everything that must not depend on the
-- caller's search_path is schema-qualified (ragstore.*, @extschema@.* for the vector type).
--
-- Time: partitions and rollup days are UTC (date_bin from 2000-01-01 00:00 UTC).
-- Units: tokens are counts, cost is an exact numeric in the caller's currency (e.g. USD),
-- latencies are milliseconds.

-- ---------------------------------------------------------------------------------------------
-- Roles (cluster-wide, so created only when missing: CREATE EXTENSION also works in a second
-- database of the same cluster). They are not members of the extension.
--   ragstore_writer  : the application: logs calls, stores and looks up cache entries
--   ragstore_reader  : dashboards: rollups, settings and log metadata, never content
--   ragstore_auditor : a reader that may also read prompt/response content
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ragstore_writer') THEN
    CREATE ROLE ragstore_writer NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ragstore_reader') THEN
    CREATE ROLE ragstore_reader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'ragstore_auditor') THEN
    CREATE ROLE ragstore_auditor NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                 JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
                 JOIN pg_catalog.pg_roles u ON u.oid = m.member
                 WHERE r.rolname = 'ragstore_reader' AND u.rolname = 'ragstore_auditor') THEN
    GRANT ragstore_reader TO ragstore_auditor;
  END IF;
END
$roles$;

GRANT USAGE ON SCHEMA ragstore TO ragstore_writer, ragstore_reader;

-- ---------------------------------------------------------------------------------------------
-- Settings: a table, not session GUCs (GUCs set per session do not survive PgBouncer's
-- transaction pooling, and cron jobs run in fresh sessions). setting_definitions holds the
-- known names and built-in defaults (filled by the extension script); settings holds only
-- what the administrator changed, so pg_dump/restore carries the changes without clashing
-- with the defaults that CREATE EXTENSION inserts.
CREATE TABLE ragstore.setting_definitions (
    name          text PRIMARY KEY,
    value_type    text NOT NULL CHECK (value_type IN ('interval', 'integer')),
    default_value text NOT NULL,
    description   text NOT NULL
);
INSERT INTO ragstore.setting_definitions VALUES
  ('partition_interval', 'interval', '1 day',
   'width of one partition of ragstore.interactions (no months; at least 1 hour; UTC-aligned)'),
  ('partitions_ahead', 'integer', '7',
   'how many partitions ragstore.create_partitions() creates ahead of now by default'),
  ('retention', 'interval', '90 days',
   'partitions of ragstore.interactions whose whole range is older than this are dropped; off = keep'),
  ('content_retention', 'interval', '30 days',
   'prompt, response and prompt_embedding are cleared after this age; off = keep'),
  ('cache_ttl', 'interval', '1 day',
   'default time to live of a semantic cache entry (ragstore.cache_store)'),
  ('cache_expire_batch', 'integer', '10000',
   'rows deleted per statement by ragstore.expire_cache()');

CREATE TABLE ragstore.settings (
    name       text PRIMARY KEY REFERENCES ragstore.setting_definitions (name),
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Validates a setting before it is stored. Errors: 22023 (invalid_parameter_value) for a value
-- of the wrong type or out of range.
CREATE FUNCTION ragstore._settings_validate() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  vtype text;
  iv interval;
  n bigint;
BEGIN
  SELECT value_type INTO vtype FROM ragstore.setting_definitions WHERE name = NEW.name;
  IF vtype IS NULL THEN
    RETURN NEW;  -- the foreign key reports the unknown name
  END IF;
  NEW.value := btrim(NEW.value);
  IF NEW.name IN ('retention', 'content_retention') AND lower(NEW.value) = 'off' THEN
    NEW.value := 'off';
    RETURN NEW;
  END IF;
  BEGIN
    IF vtype = 'interval' THEN
      iv := NEW.value::interval;
    ELSE
      n := NEW.value::bigint;
    END IF;
  EXCEPTION WHEN data_exception THEN
    RAISE EXCEPTION 'invalid value for setting "%": "%" is not a valid %', NEW.name, NEW.value, vtype
      USING ERRCODE = 'invalid_parameter_value';
  END;
  IF vtype = 'interval' AND iv <= interval '0' THEN
    RAISE EXCEPTION 'setting "%" must be a positive interval, not "%"', NEW.name, NEW.value
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NEW.name = 'partition_interval' AND
     (extract(month FROM iv) <> 0 OR extract(year FROM iv) <> 0 OR iv < interval '1 hour') THEN
    RAISE EXCEPTION 'setting "partition_interval" must be at least 1 hour and contain no months or years, not "%"', NEW.value
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use days or weeks, e.g. ''1 day'' or ''7 days''.';
  END IF;
  IF vtype = 'integer' AND (n < 1 OR n > 100000) THEN
    RAISE EXCEPTION 'setting "%" must be between 1 and 100000, not %', NEW.name, n
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
CREATE TRIGGER settings_validate BEFORE INSERT OR UPDATE ON ragstore.settings
  FOR EACH ROW EXECUTE FUNCTION ragstore._settings_validate();

-- The value in force for every setting (changed value or built-in default).
CREATE VIEW ragstore.effective_settings AS
  SELECT d.name, coalesce(s.value, d.default_value) AS value, s.value IS NULL AS is_default,
         d.value_type, d.description
  FROM ragstore.setting_definitions d LEFT JOIN ragstore.settings s USING (name);

-- ragstore.setting(name) -> text: the value in force. Error 22023 for an unknown name.
CREATE FUNCTION ragstore.setting(setting_name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v text;
BEGIN
  SELECT coalesce(s.value, d.default_value) INTO v
  FROM ragstore.setting_definitions d LEFT JOIN ragstore.settings s USING (name)
  WHERE d.name = setting_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown ragstore setting "%"', setting_name
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN v;
END
$$;

-- The same, as an interval; NULL when the setting is 'off'.
CREATE FUNCTION ragstore._setting_interval(setting_name text) RETURNS interval
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN v = 'off' THEN NULL ELSE v::interval END
  FROM ragstore.setting(setting_name) AS v
$$;

-- Bookkeeping of the maintenance functions (watermarks). Empty after CREATE EXTENSION, so a
-- restore of its dumped rows never clashes with rows the script inserted.
CREATE TABLE ragstore.maintenance_state (
    name  text PRIMARY KEY CHECK (name IN ('content_cleared_before', 'dropped_before')),
    value timestamptz NOT NULL
);

-- ---------------------------------------------------------------------------------------------
-- The log.
CREATE SEQUENCE ragstore.interactions_id_seq AS bigint;

-- ragstore._interaction_row_check(...) -> boolean: the rules of a log row, for the table's CHECK
-- constraint interactions_valid: true, or error 23514 naming the broken rule: started_at not
-- finite, an unknown operation, finished before started, the first token outside the call,
-- negative token counts or cost, temperature < 0, top_p outside [0, 1], max_tokens <= 0,
-- cache_distance < 0, an unknown cache_outcome, cache_entry_id given other than exactly for a
-- 'hit'. NULLs pass (the columns' NOT NULL constraints say what is required).
CREATE FUNCTION ragstore._interaction_row_check(
    started_at timestamptz, first_token_at timestamptz, finished_at timestamptz, operation text,
    input_tokens integer, output_tokens integer, cache_read_input_tokens integer,
    cache_creation_input_tokens integer, reasoning_output_tokens integer, cost numeric,
    temperature double precision, top_p double precision, max_tokens integer,
    cache_outcome text, cache_entry_id bigint, cache_distance double precision)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ragstore_interaction_row_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE TABLE ragstore.interactions (
    id                          bigint NOT NULL DEFAULT nextval('ragstore.interactions_id_seq'),
    started_at                  timestamptz NOT NULL DEFAULT now(),
    first_token_at              timestamptz,
    finished_at                 timestamptz,
    operation                   text NOT NULL DEFAULT 'chat',  -- gen_ai.operation.name
    provider                    text,            -- gen_ai.provider.name
    request_model               text NOT NULL,   -- gen_ai.request.model
    response_model              text,            -- gen_ai.response.model
    conversation_id             text,            -- gen_ai.conversation.id
    user_id                     text,
    tenant                      text,
    input_tokens                integer,         -- gen_ai.usage.input_tokens
    output_tokens               integer,         -- gen_ai.usage.output_tokens
    cache_read_input_tokens     integer,         -- provider-side prompt cache reads
    cache_creation_input_tokens integer,
    reasoning_output_tokens     integer,
    cost                        numeric,         -- exact, caller's currency
    finish_reasons              text[],          -- gen_ai.response.finish_reasons
    error_type                  text,            -- error.type; NULL = success
    temperature                 double precision,
    top_p                       double precision,
    max_tokens                  integer,
    cache_outcome               text,            -- semantic cache: hit, miss, bypass; NULL = not used
    cache_entry_id              bigint,          -- ragstore.cache_entries.id of a hit (no FK: entries expire)
    cache_distance              double precision,-- cosine distance of the nearest entry
    prompt                      text,            -- content: opt-in, privileged roles only
    response                    text,            -- content
    prompt_embedding            @extschema@.vector, -- content (embeddings can be inverted)
    metadata                    jsonb NOT NULL DEFAULT '{}',
    tags                        text[] NOT NULL DEFAULT '{}',
    -- every rule in one C function (src/interactions/log.cpp, CheckRow): PostgreSQL prepares each
    -- CHECK expression of the table once per INSERT statement, so one call is much cheaper
    -- than a dozen expressions; a broken rule raises 23514 naming it.
    CONSTRAINT interactions_valid CHECK (ragstore._interaction_row_check(
        started_at, first_token_at, finished_at, operation, input_tokens, output_tokens,
        cache_read_input_tokens, cache_creation_input_tokens, reasoning_output_tokens, cost,
        temperature, top_p, max_tokens, cache_outcome, cache_entry_id, cache_distance))
) PARTITION BY RANGE (started_at);

ALTER SEQUENCE ragstore.interactions_id_seq OWNED BY ragstore.interactions.id;

-- Rows for a time without a partition land here; ragstore.run_maintenance() moves them.
CREATE TABLE ragstore.interactions_default PARTITION OF ragstore.interactions DEFAULT;

-- One index (each one costs every insert, and logging speed is the point): per user over time,
-- for the audit question "every call of this user" (a user's rows are sparse in every
-- partition). Time ranges are served by partition pruning. There is deliberately no index per
-- model: dashboards and cost reports read the rollup usage_daily (per day, tenant, user and
-- model), and a model is not selective in the raw log (a handful of models share the traffic,
-- so a scan of the day's partition is what a per-model index scan would cost anyway); it cost
-- about 5% of log_interaction's throughput (bench/interactions/run.sh log). The index is created
-- on each partition (here, and by _attach_interaction_partition), not on the parent: a
-- partitioned index owned by the extension would make ATTACH PARTITION create the partitions'
-- indexes during a restore, before pg_dump's own CREATE INDEX for them, and the restore would
-- fail.
CREATE INDEX interactions_default_user_time ON ragstore.interactions_default (user_id, started_at);

COMMENT ON TABLE ragstore.interactions IS
  'One immutable row per LLM call (OpenTelemetry GenAI names); range-partitioned by started_at (UTC)';

-- Rows are immutable: UPDATE, DELETE and TRUNCATE are refused unless a maintenance function of
-- this extension set the transaction-local flag ragstore_log.maintenance (the prefix ragstore.
-- is reserved for real GUCs). This is a guard against accidents; the security boundary is the
-- privileges (no role but the owner has UPDATE or DELETE on the log). Error 55000.
CREATE FUNCTION ragstore._interactions_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('ragstore_log.maintenance', true) = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'ragstore.interactions is append-only: % refused', TG_OP
    USING ERRCODE = 'object_not_in_prerequisite_state',
          HINT = 'Old rows are removed by ragstore.apply_retention(), which drops whole partitions.';
END
$$;
CREATE TRIGGER interactions_immutable BEFORE UPDATE OR DELETE ON ragstore.interactions
  FOR EACH ROW EXECUTE FUNCTION ragstore._interactions_immutable();
CREATE TRIGGER interactions_no_truncate BEFORE TRUNCATE ON ragstore.interactions
  FOR EACH STATEMENT EXECUTE FUNCTION ragstore._interactions_immutable();

-- ---------------------------------------------------------------------------------------------
-- Rollups. usage_dirty_days is an append-only queue of UTC days that received rows, written in
-- the inserting (sub)transaction, so it commits or rolls back with the rows themselves:
-- log_interaction queues a day once per (sub)transaction itself (src/interactions/log.cpp);
-- INSERT and COPY statements queue one row per day and statement through a statement-level
-- trigger with a transition table. refresh_usage_daily() deletes
-- the queue rows it can see and recomputes those days: a row of a transaction that commits
-- later stays in the queue for the next refresh, so no day is ever missed.
CREATE TABLE ragstore.usage_dirty_days (
    day date NOT NULL
);

-- Late content: rows with content logged more than an hour after they started may fall
-- behind apply_retention's content watermark; their days are queued here (by the same
-- trigger) and apply_retention clears them too.
CREATE TABLE ragstore.content_late_days (
    day date NOT NULL
);

-- The statement trigger of INSERT and COPY (src/interactions/log.cpp): queues each distinct
-- UTC day of the statement's rows (and late-content days), once per (sub)transaction.
CREATE FUNCTION ragstore._interactions_mark_dirty() RETURNS trigger
AS 'MODULE_PATHNAME', 'ragstore_interactions_mark_dirty' LANGUAGE C;
CREATE TRIGGER interactions_mark_dirty AFTER INSERT ON ragstore.interactions
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ragstore._interactions_mark_dirty();

-- One row per UTC day, tenant, user and requested model. Latencies in ms (finished_at -
-- started_at; time to first token = first_token_at - started_at), percentiles interpolated
-- (percentile_cont) over the calls that report the timestamps. cache_hit_rate = hits / (hits +
-- misses) over calls that consulted the semantic cache (NULL when none did).
CREATE TABLE ragstore.usage_daily (
    day                         date NOT NULL,
    tenant                      text,
    user_id                     text,
    request_model               text NOT NULL,
    calls                       bigint NOT NULL,
    errors                      bigint NOT NULL,
    input_tokens                bigint NOT NULL,
    output_tokens               bigint NOT NULL,
    cached_input_tokens         bigint NOT NULL,  -- sum of cache_read_input_tokens
    cache_creation_input_tokens bigint NOT NULL,
    reasoning_output_tokens     bigint NOT NULL,
    cost                        numeric NOT NULL,
    latency_p50_ms              double precision,
    latency_p95_ms              double precision,
    latency_p99_ms              double precision,
    ttft_p50_ms                 double precision,
    ttft_p95_ms                 double precision,
    cache_hits                  bigint NOT NULL,
    cache_misses                bigint NOT NULL,
    cache_hit_rate              double precision,
    refreshed_at                timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX usage_daily_key ON ragstore.usage_daily (day, tenant, user_id, request_model)
  NULLS NOT DISTINCT;

-- ragstore.refresh_usage_daily() -> integer: recomputes the rollup of every UTC day that
-- received log rows since the last refresh and returns the number of days recomputed. Days
-- older than the last partition dropped by retention are skipped (their raw rows are partly
-- gone; recomputing would shrink the rollup). One refresh at a time (EXCLUSIVE lock on
-- usage_daily, which still lets dashboards read it).
CREATE FUNCTION ragstore.refresh_usage_daily() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  days date[];
  d date;
  lo timestamptz;
  floor_ts timestamptz;
  n integer := 0;
BEGIN
  LOCK TABLE ragstore.usage_daily IN EXCLUSIVE MODE;
  WITH q AS (DELETE FROM ragstore.usage_dirty_days RETURNING day)
    SELECT array_agg(DISTINCT day ORDER BY day) INTO days FROM q;
  IF days IS NULL THEN
    RETURN 0;
  END IF;
  SELECT value INTO floor_ts FROM ragstore.maintenance_state WHERE name = 'dropped_before';
  FOREACH d IN ARRAY days LOOP
    lo := d::timestamp AT TIME ZONE 'UTC';
    CONTINUE WHEN lo < floor_ts;
    DELETE FROM ragstore.usage_daily WHERE day = d;
    INSERT INTO ragstore.usage_daily
      SELECT d, tenant, user_id, request_model,
             count(*),
             count(*) FILTER (WHERE error_type IS NOT NULL),
             coalesce(sum(input_tokens), 0),
             coalesce(sum(output_tokens), 0),
             coalesce(sum(cache_read_input_tokens), 0),
             coalesce(sum(cache_creation_input_tokens), 0),
             coalesce(sum(reasoning_output_tokens), 0),
             coalesce(sum(cost), 0),
             percentile_cont(0.50) WITHIN GROUP (ORDER BY lat_ms),
             percentile_cont(0.95) WITHIN GROUP (ORDER BY lat_ms),
             percentile_cont(0.99) WITHIN GROUP (ORDER BY lat_ms),
             percentile_cont(0.50) WITHIN GROUP (ORDER BY ttft_ms),
             percentile_cont(0.95) WITHIN GROUP (ORDER BY ttft_ms),
             count(*) FILTER (WHERE cache_outcome = 'hit'),
             count(*) FILTER (WHERE cache_outcome = 'miss'),
             (count(*) FILTER (WHERE cache_outcome = 'hit'))::double precision
               / nullif(count(*) FILTER (WHERE cache_outcome IN ('hit', 'miss')), 0),
             now()
      FROM (SELECT i.*,
                   extract(epoch FROM i.finished_at - i.started_at) * 1000 AS lat_ms,
                   extract(epoch FROM i.first_token_at - i.started_at) * 1000 AS ttft_ms
            FROM ragstore.interactions i
            WHERE i.started_at >= lo AND i.started_at < lo + interval '1 day') r
      GROUP BY tenant, user_id, request_model;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Partitions.

-- ragstore.interaction_partitions(): every partition of the log with its range (UTC bounds;
-- NULL for the default partition) and an estimate of its rows (pg_class.reltuples, -1 if
-- never analyzed).
CREATE FUNCTION ragstore.interaction_partitions()
RETURNS TABLE (partition regclass, range_start timestamptz, range_end timestamptz,
               is_default boolean, rows_estimate bigint)
LANGUAGE plpgsql STABLE
SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  r record;
  m text[];
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS rel, pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound,
           c.reltuples::bigint AS est
    FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'ragstore.interactions'::regclass
  LOOP
    partition := r.rel;
    rows_estimate := r.est;
    IF r.bound = 'DEFAULT' THEN
      is_default := true; range_start := NULL; range_end := NULL;
    ELSE
      m := regexp_match(r.bound, '^FOR VALUES FROM \((.*)\) TO \((.*)\)$');
      is_default := false;
      range_start := CASE WHEN m[1] = 'MINVALUE' THEN '-infinity'::timestamptz
                          ELSE btrim(m[1], '''')::timestamptz END;
      range_end := CASE WHEN m[2] = 'MAXVALUE' THEN 'infinity'::timestamptz
                        ELSE btrim(m[2], '''')::timestamptz END;
    END IF;
    RETURN NEXT;
  END LOOP;
END
$$;

CREATE FUNCTION ragstore._partition_origin() RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT timestamptz '2000-01-01 00:00:00+00' $$;

-- Creates the partition [lo, hi) of the log and returns it with the number of rows it took
-- over from the default partition. The caller holds SHARE ROW EXCLUSIVE on the log and ACCESS
-- EXCLUSIVE on the default partition (see create_partitions) and has set
-- ragstore_log.maintenance.
-- How: a plain table with the log's columns and constraints, the default partition's rows of
-- the range moved into it (one statement), its indexes (see above), a CHECK constraint that
-- proves the range (so ATTACH skips scanning it), ATTACH PARTITION, then the CHECK is dropped.
CREATE FUNCTION ragstore._attach_interaction_partition(lo timestamptz, hi timestamptz,
                                                       OUT part regclass, OUT rows_moved bigint)
LANGUAGE plpgsql
SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD'
AS $$
DECLARE
  relname text;
BEGIN
  relname := 'interactions_p' || to_char(lo, 'YYYYMMDD');
  IF lo <> date_trunc('day', lo) THEN
    relname := relname || to_char(lo, '_HH24MI');
  END IF;
  EXECUTE format('CREATE TABLE ragstore.%I (LIKE ragstore.interactions INCLUDING DEFAULTS'
                 ' INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)', relname);
  EXECUTE format('ALTER TABLE ragstore.%I ADD CONSTRAINT %I CHECK (started_at >= %L AND started_at < %L)',
                 relname, relname || '_range', lo, hi);
  EXECUTE format('WITH moved AS (DELETE FROM ragstore.interactions_default'
                 ' WHERE started_at >= %L AND started_at < %L RETURNING *)'
                 ' INSERT INTO ragstore.%I SELECT * FROM moved', lo, hi, relname);
  GET DIAGNOSTICS rows_moved = ROW_COUNT;
  EXECUTE format('CREATE INDEX %I ON ragstore.%I (user_id, started_at)', relname || '_user_time', relname);
  EXECUTE format('ALTER TABLE ragstore.interactions ATTACH PARTITION ragstore.%I FOR VALUES FROM (%L) TO (%L)',
                 relname, lo, hi);
  EXECUTE format('ALTER TABLE ragstore.%I DROP CONSTRAINT %I', relname, relname || '_range');
  part := format('ragstore.%I', relname)::regclass;
END
$$;

-- The ranges within bins [first_bin, last_bin + stride) (steps of stride) that no partition
-- of the log covers, in order.
CREATE FUNCTION ragstore._partition_gaps(first_bin timestamptz, last_bin timestamptz, stride interval)
RETURNS TABLE (lo timestamptz, hi timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  bin timestamptz := first_bin;
  gap_lo timestamptz;
  ex record;
BEGIN
  WHILE bin <= last_bin LOOP
    gap_lo := bin;
    FOR ex IN
      SELECT p.range_start, p.range_end FROM ragstore.interaction_partitions() p
      WHERE NOT p.is_default AND p.range_start < bin + stride AND p.range_end > bin
      ORDER BY p.range_start
    LOOP
      IF ex.range_start > gap_lo THEN
        lo := gap_lo; hi := ex.range_start;
        RETURN NEXT;
      END IF;
      gap_lo := greatest(gap_lo, ex.range_end);
    END LOOP;
    IF gap_lo < bin + stride THEN
      lo := gap_lo; hi := bin + stride;
      RETURN NEXT;
    END IF;
    bin := bin + stride;
  END LOOP;
END
$$;

-- ragstore.create_partitions(from_time, to_time) -> SETOF regclass: creates the partitions of
-- ragstore.interactions that cover [from_time, to_time] (default: now() to now() +
-- partitions_ahead x partition_interval), skipping ranges that already have one, and returns
-- those it created. Rows already in the default partition for a new range are moved into it
-- in the same transaction. Partition bounds are multiples of partition_interval from
-- 2000-01-01 00:00 UTC (date_bin); a range partly covered by existing partitions (after
-- partition_interval changed) gets partitions for its gaps only.
-- Locks, only when there is something to create: SHARE ROW EXCLUSIVE on the log (logging
-- waits until the transaction ends; readers do not), then ACCESS EXCLUSIVE on the default
-- partition. Blocking inserts is required: an INSERT that had already routed its row to the
-- default partition would otherwise fail once the new partition's range is attached
-- ("violates partition constraint"; found by test/t/060). Same order as inserters (parent,
-- then partition), so no deadlock.
-- Errors: 22004 for a NULL bound, 22023 when to_time < from_time or a bound is infinite,
-- 54000 for more than 10000 partitions in one call. Owner only (run it from cron).
CREATE FUNCTION ragstore.create_partitions(from_time timestamptz DEFAULT now(),
                                           to_time timestamptz DEFAULT NULL)
RETURNS SETOF regclass
LANGUAGE plpgsql AS $$
DECLARE
  stride interval := ragstore.setting('partition_interval')::interval;
  ahead integer := ragstore.setting('partitions_ahead')::integer;
  first_bin timestamptz;
  last_bin timestamptz;
  g record;
  res record;
BEGIN
  IF from_time IS NULL THEN
    RAISE EXCEPTION 'from_time must not be NULL' USING ERRCODE = 'null_value_not_allowed';
  END IF;
  to_time := coalesce(to_time, from_time + ahead * stride);
  IF NOT isfinite(from_time) OR NOT isfinite(to_time) THEN
    RAISE EXCEPTION 'partition bounds must be finite (got % to %)', from_time, to_time
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF to_time < from_time THEN
    RAISE EXCEPTION 'to_time (%) is before from_time (%)', to_time, from_time
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  first_bin := date_bin(stride, from_time, ragstore._partition_origin());
  last_bin := date_bin(stride, to_time, ragstore._partition_origin());
  IF (extract(epoch FROM last_bin - first_bin) / extract(epoch FROM stride)) >= 10000 THEN
    RAISE EXCEPTION 'too many partitions requested (% to % in steps of %)', from_time, to_time, stride
      USING ERRCODE = 'program_limit_exceeded', HINT = 'Create at most 10000 partitions per call.';
  END IF;
  IF NOT EXISTS (SELECT FROM ragstore._partition_gaps(first_bin, last_bin, stride)) THEN
    RETURN;  -- nothing to do, no lock taken
  END IF;

  PERFORM set_config('ragstore_log.maintenance', 'on', true);
  LOCK TABLE ragstore.interactions IN SHARE ROW EXCLUSIVE MODE;
  LOCK TABLE ragstore.interactions_default IN ACCESS EXCLUSIVE MODE;
  -- recomputed under the locks: a concurrent call may have filled some gaps meanwhile
  FOR g IN SELECT * FROM ragstore._partition_gaps(first_bin, last_bin, stride) LOOP
    res := ragstore._attach_interaction_partition(g.lo, g.hi);
    RETURN NEXT res.part;
  END LOOP;
  PERFORM set_config('ragstore_log.maintenance', 'off', true);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Logging.

-- ragstore.log_interaction(...) -> bigint: logs one LLM call and returns its id. Call with
-- named parameters; everything but request_model has a default. Times: started_at defaults to
-- now() (the transaction's start); give finished_at / first_token_at, or duration_ms /
-- time_to_first_token_ms (milliseconds after started_at). Content (prompt, response,
-- prompt_embedding) is stored only when passed. A semantic-cache hit is recorded here
-- (cache_outcome 'hit' with cache_entry_id and cache_distance), never on the cache entry.
-- Errors (SQLSTATE 22023 invalid_parameter_value, 22004 for a NULL request_model):
-- negative token counts, a negative cost, finished before started, first token outside the
-- call, an unknown operation, an unknown cache outcome, a hit without its entry, temperature
-- < 0, top_p outside [0, 1], max_tokens <= 0, both finished_at and duration_ms.
-- started_at must be finite (22023).
-- Token counts and max_tokens are taken as bigint (so integer and bigint arguments both match
-- the named parameters) and stored as integer: above 2^31-1 is error 22003. 25006 in a
-- read-only transaction (a replica).
-- Direct INSERT/COPY into ragstore.interactions is checked by the same rules (the CHECK
-- constraint interactions_valid, SQLSTATE 23514).
-- In C (src/interactions/log.cpp): the row is validated, routed to its partition and inserted
-- without an INSERT statement, and its day queued in usage_dirty_days once per (sub)transaction;
-- when the log has another INSERT trigger, row security or a changed layout, it runs an INSERT
-- statement instead (a plan kept per backend), which fires every trigger. Needs INSERT on the
-- log and the queue tables and USAGE on the id sequence (ragstore_writer has them).
CREATE FUNCTION ragstore.log_interaction(
    request_model               text,
    operation                   text DEFAULT 'chat',
    provider                    text DEFAULT NULL,
    response_model              text DEFAULT NULL,
    started_at                  timestamptz DEFAULT NULL,
    finished_at                 timestamptz DEFAULT NULL,
    first_token_at              timestamptz DEFAULT NULL,
    duration_ms                 double precision DEFAULT NULL,
    time_to_first_token_ms      double precision DEFAULT NULL,
    conversation_id             text DEFAULT NULL,
    user_id                     text DEFAULT NULL,
    tenant                      text DEFAULT NULL,
    input_tokens                bigint DEFAULT NULL,
    output_tokens               bigint DEFAULT NULL,
    cache_read_input_tokens     bigint DEFAULT NULL,
    cache_creation_input_tokens bigint DEFAULT NULL,
    reasoning_output_tokens     bigint DEFAULT NULL,
    cost                        numeric DEFAULT NULL,
    finish_reasons              text[] DEFAULT NULL,
    error_type                  text DEFAULT NULL,
    temperature                 double precision DEFAULT NULL,
    top_p                       double precision DEFAULT NULL,
    max_tokens                  bigint DEFAULT NULL,
    cache_outcome               text DEFAULT NULL,
    cache_entry_id              bigint DEFAULT NULL,
    cache_distance              double precision DEFAULT NULL,
    prompt                      text DEFAULT NULL,
    response                    text DEFAULT NULL,
    prompt_embedding            @extschema@.vector DEFAULT NULL,
    metadata                    jsonb DEFAULT '{}',
    tags                        text[] DEFAULT '{}'
) RETURNS bigint
AS 'MODULE_PATHNAME', 'ragstore_log_interaction' LANGUAGE C VOLATILE;

-- ---------------------------------------------------------------------------------------------
-- Retention.

-- ragstore.apply_retention(rescan_content) -> (dropped_partitions, cleared_rows): drops every
-- partition of the log whose whole range is older than now() - retention, and clears prompt,
-- response and prompt_embedding of rows older than now() - content_retention. Each row is
-- cleared once: a watermark in maintenance_state remembers how far clearing went, so a run
-- only scans the partitions between the last cutoff and the new one, plus the days that
-- received content more than an hour late (queued in content_late_days by the insert trigger)
-- and the default partition; rescan_content => true ignores the watermark and scans every
-- remaining partition. Never deletes rows one by one. The rollups of
-- the days being dropped are refreshed first; they outlive the raw rows.
-- Lock: ACCESS EXCLUSIVE on the log, briefly, at the end (dropping partitions), after the
-- content has been cleared with ordinary row locks. Owner only.
CREATE FUNCTION ragstore.apply_retention(rescan_content boolean DEFAULT false,
                                         OUT dropped_partitions text[], OUT cleared_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
  keep interval := ragstore._setting_interval('retention');
  keep_content interval := ragstore._setting_interval('content_retention');
  cutoff timestamptz;
  ccutoff timestamptz;
  watermark timestamptz;
  drop_end timestamptz;
  late_days date[];
  d date;
  lo timestamptz;
  n bigint;
  p record;
BEGIN
  dropped_partitions := '{}';
  cleared_rows := 0;
  PERFORM ragstore.refresh_usage_daily();
  PERFORM set_config('ragstore_log.maintenance', 'on', true);

  cutoff := now() - keep;  -- NULL when retention is off
  SELECT max(range_end) INTO drop_end
  FROM ragstore.interaction_partitions() WHERE NOT is_default AND range_end <= cutoff;

  IF keep_content IS NOT NULL THEN
    ccutoff := now() - keep_content;
    IF NOT coalesce(rescan_content, false) THEN
      SELECT value INTO watermark FROM ragstore.maintenance_state WHERE name = 'content_cleared_before';
    END IF;
    watermark := greatest(coalesce(watermark, '-infinity'), coalesce(drop_end, '-infinity'));
    IF watermark < ccutoff THEN
      UPDATE ragstore.interactions
         SET prompt = NULL, response = NULL, prompt_embedding = NULL
       WHERE started_at >= watermark AND started_at < ccutoff
         AND (prompt IS NOT NULL OR response IS NOT NULL OR prompt_embedding IS NOT NULL);
      GET DIAGNOSTICS n = ROW_COUNT;
      cleared_rows := cleared_rows + n;
      INSERT INTO ragstore.maintenance_state VALUES ('content_cleared_before', ccutoff)
        ON CONFLICT (name) DO UPDATE SET value = greatest(maintenance_state.value, EXCLUDED.value);
    END IF;
    UPDATE ragstore.interactions_default
       SET prompt = NULL, response = NULL, prompt_embedding = NULL
     WHERE started_at < ccutoff
       AND (prompt IS NOT NULL OR response IS NOT NULL OR prompt_embedding IS NOT NULL);
    GET DIAGNOSTICS n = ROW_COUNT;
    cleared_rows := cleared_rows + n;
    -- days that received content late (see content_late_days); later days are covered by the
    -- watermark on the next runs. Queue rows of uncommitted inserts stay for the next run.
    WITH q AS (DELETE FROM ragstore.content_late_days RETURNING day)
      SELECT array_agg(DISTINCT day) INTO late_days FROM q;
    IF late_days IS NOT NULL THEN
      FOREACH d IN ARRAY late_days LOOP
        lo := d::timestamp AT TIME ZONE 'UTC';
        CONTINUE WHEN lo >= ccutoff OR lo + interval '1 day' <= drop_end;  -- newer, or dropped below
        UPDATE ragstore.interactions
           SET prompt = NULL, response = NULL, prompt_embedding = NULL
         WHERE started_at >= lo AND started_at < least(lo + interval '1 day', ccutoff)
           AND (prompt IS NOT NULL OR response IS NOT NULL OR prompt_embedding IS NOT NULL);
        GET DIAGNOSTICS n = ROW_COUNT;
        cleared_rows := cleared_rows + n;
      END LOOP;
    END IF;
  ELSE
    DELETE FROM ragstore.content_late_days;
  END IF;

  IF drop_end IS NOT NULL THEN
    LOCK TABLE ragstore.interactions IN ACCESS EXCLUSIVE MODE;
    FOR p IN
      SELECT * FROM ragstore.interaction_partitions()
      WHERE NOT is_default AND range_end <= cutoff ORDER BY range_start
    LOOP
      dropped_partitions := dropped_partitions || p.partition::text;
      EXECUTE format('DROP TABLE %s', p.partition);
    END LOOP;
    INSERT INTO ragstore.maintenance_state VALUES ('dropped_before', drop_end)
      ON CONFLICT (name) DO UPDATE SET value = greatest(maintenance_state.value, EXCLUDED.value);
  END IF;
  PERFORM set_config('ragstore_log.maintenance', 'off', true);
END
$$;
