-- Ends a run whose language model request went to the batch lane (llm_batch_requests): the job waits
-- as 'deferred', spending no attempt, until its batch has come back and puts it back to 'pending'.
-- Its last failure, if any, is kept as it was. Fenced on the claim: 0 rows updated = the claim was lost.
UPDATE job_queue
   SET status       = 'deferred',
       worker_id    = NULL,
       started_at   = NULL,
       heartbeat_at = NULL,
       traceparent  = COALESCE(traceparent, :#${exchangeProperty.traceparent}),
       updated_at   = now()
 WHERE id = :#${exchangeProperty.jobId}
   AND status = 'processing'
   AND worker_id = :#${exchangeProperty.claimWorkerId}
   AND started_at = CAST(:#${exchangeProperty.claimedAt} AS timestamptz)
