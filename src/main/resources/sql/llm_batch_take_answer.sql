-- A job's answer from the batch lane, taken once: the request's row is deleted as it is read, so a
-- later run of the job (a retry) sends a new request. Only an answer for the provider now asked counts.
DELETE FROM llm_batch_requests
 WHERE job_id = :jobId
   AND provider = :provider
   AND answered_at IS NOT NULL
RETURNING batch_id, answer_status, answer, answer_error::text AS answer_error
