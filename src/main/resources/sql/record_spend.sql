-- A batch of language model spend (SpendLedger, flushed about once a second): the days' sums and the
-- jobs' sums, each given as parallel arrays, added in one statement. A job's share is skipped when the
-- job is gone (its row may be deleted while its calls are still being recorded).
WITH daily AS (
    INSERT INTO spend_daily AS s (day, job_type, provider, model, calls, input_tokens, output_tokens, cost)
    SELECT * FROM unnest(CAST(CAST(:days AS text[]) AS date[]), CAST(:jobTypes AS text[]), CAST(:providers AS text[]),
                         CAST(:models AS text[]), CAST(CAST(:calls AS text[]) AS bigint[]), CAST(CAST(:inputTokens AS text[]) AS bigint[]),
                         CAST(CAST(:outputTokens AS text[]) AS bigint[]), CAST(CAST(:costs AS text[]) AS numeric[]))
    ON CONFLICT (day, job_type, provider, model) DO UPDATE
       SET calls = s.calls + excluded.calls, input_tokens = s.input_tokens + excluded.input_tokens,
           output_tokens = s.output_tokens + excluded.output_tokens, cost = s.cost + excluded.cost
    RETURNING 1
)
INSERT INTO job_spend AS j (job_id, day, calls, input_tokens, output_tokens, cost, providers, models)
SELECT q.id, b.day, b.calls, b.input_tokens, b.output_tokens, b.cost,
       string_to_array(b.providers, ','), string_to_array(b.models, ',')
  FROM unnest(CAST(CAST(:jobIds AS text[]) AS uuid[]), CAST(CAST(:jobDays AS text[]) AS date[]), CAST(CAST(:jobCalls AS text[]) AS bigint[]),
              CAST(CAST(:jobInputTokens AS text[]) AS bigint[]), CAST(CAST(:jobOutputTokens AS text[]) AS bigint[]), CAST(CAST(:jobCosts AS text[]) AS numeric[]),
              CAST(:jobProviders AS text[]), CAST(:jobModels AS text[]))
       AS b (job_id, day, calls, input_tokens, output_tokens, cost, providers, models)
  JOIN job_queue q ON q.id = b.job_id
ON CONFLICT (job_id) DO UPDATE
   SET calls = j.calls + excluded.calls, input_tokens = j.input_tokens + excluded.input_tokens,
       output_tokens = j.output_tokens + excluded.output_tokens, cost = j.cost + excluded.cost,
       providers = ARRAY(SELECT DISTINCT unnest(j.providers || excluded.providers)),
       models = ARRAY(SELECT DISTINCT unnest(j.models || excluded.models))
