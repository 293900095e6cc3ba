-- (b) logging: one ragstore.log_interaction row per transaction with realistic values (a write:
-- run it on the primary). Model mix (weights 6/2/1/1) with list prices in USD per million
-- tokens (input/output): gpt-4o-mini 0.15/0.60, gpt-4o 2.50/10, claude-3-5-sonnet 3/15,
-- mistral-small 0.20/0.60. Input tokens exponential-ish (a few hundred typical, up to 8000),
-- output tokens Gaussian around 400; time to first token 150-900 ms; duration = ttft + 12 ms per
-- output token; 1% errors (rate limits); users zipfian over :nkeys.
\set r random(1, 10)
\set mi CASE WHEN :r <= 6 THEN 1 WHEN :r <= 8 THEN 2 WHEN :r <= 9 THEN 3 ELSE 4 END
\set in_tok random_exponential(20, 8000, 6.0)
\set out_tok random_gaussian(1, 1600, 2.5)
\set ttft random(150, 900)
\set user random_zipfian(1, :nkeys, 1.1)
\set err random(1, 100)
SELECT ragstore.log_interaction(
  request_model   => (ARRAY['gpt-4o-mini', 'gpt-4o', 'claude-3-5-sonnet', 'mistral-small'])[:mi],
  response_model  => (ARRAY['gpt-4o-mini-2024-07-18', 'gpt-4o-2024-08-06', 'claude-3-5-sonnet-20241022', 'mistral-small-2409'])[:mi],
  provider        => (ARRAY['openai', 'openai', 'anthropic', 'mistral_ai'])[:mi],
  duration_ms     => (:ttft + 12 * :out_tok)::double precision,
  time_to_first_token_ms => (:ttft)::double precision,
  user_id         => 'user-' || :user,
  tenant          => 'tenant-' || (:user % 50),
  conversation_id => 'conv-' || :user || '-' || :client_id,
  input_tokens    => :in_tok,
  output_tokens   => CASE WHEN :err = 1 THEN 0 ELSE :out_tok END,
  cache_read_input_tokens => (:in_tok / 2) * (:r % 2),
  cost            => round((:in_tok * (ARRAY[0.15, 2.50, 3.00, 0.20])[:mi]
                            + :out_tok * (ARRAY[0.60, 10.0, 15.0, 0.60])[:mi]) / 1e6, 8),
  finish_reasons  => CASE WHEN :err = 1 THEN NULL WHEN :out_tok > 1500 THEN ARRAY['length'] ELSE ARRAY['stop'] END,
  error_type      => CASE WHEN :err = 1 THEN 'rate_limit_exceeded' END,
  temperature     => 0.7,
  max_tokens      => 1500);
