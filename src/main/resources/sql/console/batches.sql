-- The batch lane's open batches for the queues page (and those that ended in the last day), newest
-- first: provider, model, size, state, age, the provider's counts, answers written back.
SELECT b.id, b.provider, b.model, b.state, b.provider_batch_id, b.request_count, b.completed_count, b.failed_count,
       b.answered_count, b.last_error,
       extract(epoch FROM now() - b.created_at)::float8 AS age_seconds
  FROM llm_batches b
 WHERE b.state NOT IN ('applied', 'abandoned')
    OR b.finished_at > now() - interval '1 day'
 ORDER BY b.created_at DESC
 LIMIT 50
