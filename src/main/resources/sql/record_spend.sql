-- One language model call's tokens and cost (SpendLedger), added to its day's sum and to its job's.
-- The job's share is skipped when the job is gone (a job's row may be deleted while its call runs).
WITH daily AS (
    INSERT INTO spend_daily AS s (day, job_type, provider, model, calls, input_tokens, output_tokens, cost)
    VALUES ((now() AT TIME ZONE 'UTC')::date, :jobType, :provider, :model, 1, :inputTokens, :outputTokens, :cost)
    ON CONFLICT (day, job_type, provider, model) DO UPDATE
       SET calls = s.calls + 1, input_tokens = s.input_tokens + excluded.input_tokens,
           output_tokens = s.output_tokens + excluded.output_tokens, cost = s.cost + excluded.cost
    RETURNING 1
)
INSERT INTO job_spend AS j (job_id, day, calls, input_tokens, output_tokens, cost, providers, models)
SELECT q.id, (now() AT TIME ZONE 'UTC')::date, 1, :inputTokens, :outputTokens, :cost,
       ARRAY[CAST(:provider AS text)], ARRAY[CAST(:model AS text)]
  FROM job_queue q
 WHERE q.id = :jobId
ON CONFLICT (job_id) DO UPDATE
   SET calls = j.calls + 1, input_tokens = j.input_tokens + excluded.input_tokens,
       output_tokens = j.output_tokens + excluded.output_tokens, cost = j.cost + excluded.cost,
       providers = CASE WHEN excluded.providers[1] = ANY (j.providers) THEN j.providers
                        ELSE j.providers || excluded.providers END,
       models = CASE WHEN excluded.models[1] = ANY (j.models) THEN j.models ELSE j.models || excluded.models END
