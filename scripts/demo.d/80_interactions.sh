#!/usr/bin/env bash
# Demo part: the AI-interaction log and the semantic cache on real prompts.
# $RAGSTORE_DATA_DIR/ada002/texts_and_embeddings.jsonl holds 284 real prompts with their real
# embeddings (ada-002, text-embedding-3-small, mistral-embed, voyage-3-lite; 512..1536 dims),
# parsed here with SQL's jsonb. Half of them (even rows) are "answered by the LLM" and stored in
# the cache; then the other half and exact repeats of the first half are looked up
# (cosine distance <= 0.1, same model and tenant). Every call is logged with
# ragstore.log_interaction (a miss with the LLM's tokens, latency and cost; a hit with the cache
# entry and distance, no tokens). Prints hits, misses, a few hits side by side, and the day's
# rollup (ragstore.usage_daily). The demo fails if an exact repeat misses or a hit is farther
# than the threshold.
#
# Runs standalone too: PG* variables pointing at a database with the extension, and
# RAGSTORE_DATA_DIR; without the data file, generated prompts stand in and the output says so.
if [ -n "${RAGSTORE_DEMO_LIB:-}" ]; then
  source "$RAGSTORE_DEMO_LIB"
else
  set -euo pipefail
  demo_step() { printf '\n=== 80_interactions: %s\n' "$*"; }
  demo_done() { printf -- '--- done%s\n' "${1:+ ($1)}"; }
  demo_fail() { printf '!!! 80_interactions: %s\n' "$*" >&2; exit 1; }
  demo_psql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
  demo_query() { psql -X -q -v ON_ERROR_STOP=1 -P footer=off -c "$1"; }
fi

file=${RAGSTORE_DATA_DIR:-}/ada002/texts_and_embeddings.jsonl

demo_step "loading prompts with their embeddings"
demo_psql -c "DROP TABLE IF EXISTS demo_prompts_raw, demo_prompts, demo_calls" \
          -c "CREATE TABLE demo_prompts_raw (n bigserial PRIMARY KEY, j jsonb NOT NULL)"
if [ -r "$file" ]; then
  # One JSON object per line; CSV with quote and delimiter bytes that never occur in the file
  # reads each line whole, backslashes and all.
  demo_psql -c "\\copy demo_prompts_raw (j) FROM '$file' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
  source_note="real prompts and embeddings from $file"
else
  echo
  echo "!!! ========================================================================== !!!"
  echo "!!! $file NOT FOUND (RAGSTORE_DATA_DIR)."
  echo "!!! Using GENERATED prompts and embeddings instead: 200 synthetic 64-dim vectors."
  echo "!!! ========================================================================== !!!"
  demo_psql -c "INSERT INTO demo_prompts_raw (j)
    SELECT jsonb_build_object('model', 'generated-64', 'dims', 64,
             'text', 'generated prompt ' || (g % 120) || CASE WHEN g > 120 THEN ' (reworded)' ELSE '' END,
             'embedding', (SELECT jsonb_agg(sin((g % 120) * 7 + i) + CASE WHEN g > 120 THEN 0.05 * cos(i * g) ELSE 0 END)
                           FROM generate_series(1, 64) i))
    FROM generate_series(1, 200) g"
  source_note="GENERATED data (the real file is missing)"
fi
demo_psql -c "CREATE TABLE demo_prompts AS
  SELECT n, j->>'model' AS embedding_model, (j->>'dims')::int AS dims, j->>'text' AS prompt,
         (j->>'embedding')::vector AS embedding
  FROM demo_prompts_raw ORDER BY n"
demo_query "SELECT embedding_model, dims, count(*) AS prompts FROM demo_prompts GROUP BY 1, 2 ORDER BY 3 DESC, 1"
demo_done "$source_note"

# The cache key's model is the chat model together with the embedding model: distances between
# embeddings of different models mean nothing, even at the same dimension.
demo_step "the LLM answers the even prompts; each answer goes into the cache (TTL 1 hour) and each call into the log"
demo_psql -c "DELETE FROM ragstore.cache_entries WHERE tenant = 'demo'" -c "
CREATE TABLE demo_calls AS
SELECT p.n, 'store' AS kind,
       ragstore.cache_store(prompt => p.prompt, embedding => p.embedding,
                            response => 'answer #' || p.n || ' from gpt-4o-mini',
                            model => 'gpt-4o-mini@' || p.embedding_model, tenant => 'demo',
                            ttl => interval '1 hour') AS entry_id,
       NULL::double precision AS distance
FROM demo_prompts p WHERE p.n % 2 = 0;
SELECT count(ragstore.log_interaction(
         request_model => 'gpt-4o-mini', response_model => 'gpt-4o-mini-2024-07-18',
         provider => 'openai', operation => 'chat', tenant => 'demo', user_id => 'user-' || (p.n % 7),
         input_tokens => 1 + length(p.prompt) / 4, output_tokens => 60 + p.n % 200,
         time_to_first_token_ms => 250 + (p.n * 37) % 400,
         duration_ms => 250 + (p.n * 37) % 400 + 12 * (60 + p.n % 200),
         cost => round(((1 + length(p.prompt) / 4) * 0.15 + (60 + p.n % 200) * 0.60) / 1e6, 10),
         finish_reasons => ARRAY['stop'], cache_outcome => 'miss',
         prompt => p.prompt, response => 'answer #' || p.n || ' from gpt-4o-mini',
         metadata => jsonb_build_object('embedding_model', p.embedding_model, 'demo', 'store'))) AS calls_logged
FROM demo_prompts p WHERE p.n % 2 = 0"
demo_query "SELECT count(*) AS cache_entries, count(DISTINCT model) AS cache_models FROM ragstore.cache_entries WHERE tenant = 'demo'"
demo_done

demo_step "looking up the odd prompts (new questions) and the even ones again (exact repeats)"
demo_psql -c "
INSERT INTO demo_calls
SELECT p.n, CASE WHEN p.n % 2 = 0 THEN 'repeat' ELSE 'new' END, l.entry_id, l.distance
FROM demo_prompts p
LEFT JOIN LATERAL ragstore.cache_lookup(p.embedding, 'gpt-4o-mini@' || p.embedding_model,
                                        tenant => 'demo') l ON true;
SELECT count(ragstore.log_interaction(
         request_model => 'gpt-4o-mini', provider => 'openai', tenant => 'demo',
         user_id => 'user-' || (c.n % 7),
         input_tokens => CASE WHEN c.entry_id IS NULL THEN 1 + length(p.prompt) / 4 ELSE 0 END,
         output_tokens => CASE WHEN c.entry_id IS NULL THEN 60 + c.n % 200 ELSE 0 END,
         time_to_first_token_ms => CASE WHEN c.entry_id IS NULL THEN 250 + (c.n * 37) % 400 ELSE 3 END,
         duration_ms => CASE WHEN c.entry_id IS NULL THEN 250 + (c.n * 37) % 400 + 12 * (60 + c.n % 200) ELSE 4 END,
         cost => CASE WHEN c.entry_id IS NULL
                      THEN round(((1 + length(p.prompt) / 4) * 0.15 + (60 + c.n % 200) * 0.60) / 1e6, 10)
                      ELSE 0 END,
         cache_outcome => CASE WHEN c.entry_id IS NULL THEN 'miss' ELSE 'hit' END,
         cache_entry_id => c.entry_id, cache_distance => c.distance,
         metadata => jsonb_build_object('embedding_model', p.embedding_model, 'demo', c.kind))) AS calls_logged
FROM demo_calls c JOIN demo_prompts p USING (n) WHERE c.kind <> 'store'"
demo_query "SELECT kind AS lookup, count(*) AS calls, count(entry_id) AS hits, count(*) - count(entry_id) AS misses,
                   round(max(distance)::numeric, 4) AS max_hit_distance
            FROM demo_calls WHERE kind <> 'store' GROUP BY 1 ORDER BY 1"
echo "A few hits on new questions (the prompt asked, the cached prompt that answered it):"
demo_query "SELECT round(c.distance::numeric, 4) AS distance, left(regexp_replace(p.prompt, '\s+', ' ', 'g'), 50) AS asked,
                   left(regexp_replace(e.prompt, '\s+', ' ', 'g'), 50) AS cached_prompt
            FROM demo_calls c JOIN demo_prompts p USING (n) JOIN ragstore.cache_entries e ON e.id = c.entry_id
            WHERE c.kind = 'new' AND c.distance > 0 ORDER BY c.distance DESC, c.n LIMIT 5"
bad=$(psql -X -At -v ON_ERROR_STOP=1 -c "SELECT (SELECT count(*) FROM demo_calls WHERE kind = 'repeat' AND entry_id IS NULL)
                                                + (SELECT count(*) FROM demo_calls WHERE distance > 0.1)")
[ "$bad" = 0 ] || demo_fail "$bad lookups broke the cache's contract (an exact repeat missed or a hit beyond 0.1)"
demo_done "every exact repeat hit; every hit within cosine distance 0.1"
if [ -n "${RAGSTORE_DEMO_LIB:-}" ]; then
  read -r calls hits rate_new rate_all <<< "$(psql -X -At -F ' ' -v ON_ERROR_STOP=1 -c "
    SELECT count(*), count(entry_id),
           to_char(count(entry_id) FILTER (WHERE kind = 'new')::numeric / nullif(count(*) FILTER (WHERE kind = 'new'), 0), 'FM0.000'),
           to_char(count(entry_id)::numeric / count(*), 'FM0.000')
      FROM demo_calls WHERE kind <> 'store'")"
  demo_summary_add "semantic cache + log" "$(psql -X -At -c "SELECT count(*) FROM demo_prompts") prompts" "" "" "cosine distance <= 0.1" "" "" \
    "$calls lookups, $hits hits: hit rate $rate_all ($rate_new on new questions, 1.000 on exact repeats); every call logged"
fi

demo_step "the day's rollup (ragstore.refresh_usage_daily, then ragstore.usage_daily)"
demo_psql -c "SELECT ragstore.refresh_usage_daily()" >/dev/null
demo_query "SELECT day, request_model AS model, sum(calls) AS calls, sum(errors) AS errors,
                   sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost_usd,
                   sum(cache_hits) AS hits, sum(cache_misses) AS misses,
                   round(sum(cache_hits)::numeric / nullif(sum(cache_hits) + sum(cache_misses), 0), 3) AS hit_rate
            FROM ragstore.usage_daily WHERE tenant = 'demo' AND day = (now() AT TIME ZONE 'UTC')::date
            GROUP BY 1, 2"
echo "Per user (latency and time to first token in ms, percentiles over that user's calls):"
demo_query "SELECT user_id, calls, round(latency_p50_ms) AS p50_ms, round(latency_p95_ms) AS p95_ms,
                   round(latency_p99_ms) AS p99_ms, round(ttft_p50_ms) AS ttft_p50_ms, round(ttft_p95_ms) AS ttft_p95_ms,
                   round(cache_hit_rate::numeric, 3) AS hit_rate
            FROM ragstore.usage_daily WHERE tenant = 'demo' AND day = (now() AT TIME ZONE 'UTC')::date
            ORDER BY user_id"
demo_done
