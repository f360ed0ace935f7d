-- A run that took its batch lane answer failed on it (the line's error, an answer that is not JSON, ...):
-- the answer is spent, and the job's retry sends a new request.
DELETE FROM llm_batch_requests
 WHERE job_id = :#${exchangeProperty.jobId}
   AND taken_at IS NOT NULL
