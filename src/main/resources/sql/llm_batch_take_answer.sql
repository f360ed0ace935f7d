-- A job's answer from the batch lane, for the provider now asked. The row stays, marked taken, until the
-- run's failure is written (llm_batch_answer_spent.sql) or the job is deleted: a run whose worker died
-- or stopped before its end leaves the answer to the job's next run rather than asking the provider again.
UPDATE llm_batch_requests
   SET taken_at = now()
 WHERE job_id = :jobId
   AND provider = :provider
   AND answered_at IS NOT NULL
RETURNING batch_id, answer_status, answer, answer_error::text AS answer_error
