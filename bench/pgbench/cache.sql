-- (c) semantic cache lookup (read-only: runs on a replica): the embedding of a zipfian-chosen
-- prompt (a few prompts are asked very often, as in real traffic) looked up in
-- ragstore.cache_entries by cosine distance. run.sh stores entries for half of the prompts
-- before, so both hits and misses happen. Variables: nkeys (rows of bench_prompts).
\set k random_zipfian(1, :nkeys, 1.1)
SELECT count(*) AS hits FROM ragstore.cache_lookup(
  (SELECT embedding FROM bench_prompts WHERE pid = :k), 'gpt-4o-mini', max_distance => 0.05);
