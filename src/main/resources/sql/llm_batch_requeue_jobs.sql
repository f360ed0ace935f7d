-- An ended batch's jobs go back to the queue, due now, to take their answers through their pipeline.
-- Only jobs still deferred: a job cancelled while its batch ran stays cancelled.
UPDATE job_queue j
   SET status       = 'pending',
       scheduled_at = now(),
       updated_at   = now()
  FROM llm_batch_requests r
 WHERE r.batch_id = :batchId
   AND j.id = r.job_id
   AND j.status = 'deferred'
