-- How many of a batch's jobs still wait for it: none left (every one cancelled) and the provider's batch
-- is cancelled too, so it costs no more.
SELECT count(*)
  FROM llm_batch_requests r
  JOIN job_queue j ON j.id = r.job_id AND j.status = 'deferred'
 WHERE r.batch_id = :batchId
