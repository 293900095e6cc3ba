-- (d) a whole RAG request (on the primary): semantic cache lookup for a zipfian-chosen prompt;
-- on a miss, the 10 nearest documents (kNN over bench_items) become the answer's context and the
-- answer is stored in the cache; either way, one interaction log row records the call with its
-- cache outcome. Variables: nkeys (rows of bench_prompts).
\set k random_zipfian(1, :nkeys, 1.1)
\set in_tok random(200, 3000)
\set out_tok random(50, 800)
BEGIN;
SET LOCAL hnsw.ef_search = 40;
SELECT coalesce(max(entry_id), 0) AS hit, coalesce(min(distance), -1) AS dist
  FROM ragstore.cache_lookup((SELECT embedding FROM bench_prompts WHERE pid = :k),
                             'gpt-4o-mini', max_distance => 0.05) \gset
\if :hit = 0
SELECT ragstore.cache_store(
         prompt => 'prompt ' || p.pid,
         embedding => p.embedding,
         response => 'answer from documents ' ||
           (SELECT string_agg(id::text, ',') FROM
              (SELECT id FROM bench_items ORDER BY embedding <-> p.embedding LIMIT 10) s),
         model => 'gpt-4o-mini') AS stored
  FROM bench_prompts p WHERE p.pid = :k \gset
SELECT ragstore.log_interaction(request_model => 'gpt-4o-mini', provider => 'openai',
         user_id => 'user-' || :k, input_tokens => :in_tok, output_tokens => :out_tok,
         duration_ms => (300 + 12 * :out_tok)::double precision,
         cost => round((:in_tok * 0.15 + :out_tok * 0.60) / 1e6, 8),
         finish_reasons => ARRAY['stop'], cache_outcome => 'miss');
\else
SELECT ragstore.log_interaction(request_model => 'gpt-4o-mini', provider => 'openai',
         user_id => 'user-' || :k, input_tokens => 0, output_tokens => 0,
         duration_ms => 5::double precision, cost => 0,
         cache_outcome => 'hit', cache_entry_id => :hit, cache_distance => greatest((:dist)::double precision, 0));
\endif
COMMIT;
