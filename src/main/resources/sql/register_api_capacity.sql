-- A worker's configured limit for one provider (provider, calls_per_period, period_ms, max_concurrent,
-- tokens_per_period or NULL). Every worker sharing the database should be given the same limits: the
-- last one started wins.
INSERT INTO api_capacity AS c (provider, calls_per_period, period_ms, max_concurrent, tokens_per_period)
VALUES (:provider, :callsPerPeriod, :periodMs, :maxConcurrent, :tokensPerPeriod)
ON CONFLICT (provider) DO UPDATE
   SET calls_per_period = excluded.calls_per_period, period_ms = excluded.period_ms,
       max_concurrent = excluded.max_concurrent, tokens_per_period = excluded.tokens_per_period,
       updated_at = now()
