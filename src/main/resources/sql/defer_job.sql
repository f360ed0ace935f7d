-- Ends a run whose language model request went to the batch lane (llm_batch_requests): the job waits
-- as 'deferred', spending no attempt, until its batch has come back and puts it back to 'pending'.
-- Its last failure, if any, is kept as it was. Fenced on the claim: 0 rows updated = the claim was lost.
-- The job is found by its id alone and its claim checked on the row it locked, as in complete_jobs.sql
-- (which says why: otherwise the planner may read every running job's heartbeat index entry).
WITH claim AS MATERIALIZED (
    SELECT j.id
      FROM (SELECT id, status, worker_id, started_at
              FROM job_queue
             WHERE id = :#${exchangeProperty.jobId}
            OFFSET 0
               FOR NO KEY UPDATE) j
     WHERE j.status = 'processing'
       AND j.worker_id = :#${exchangeProperty.claimWorkerId}
       AND j.started_at = CAST(:#${exchangeProperty.claimedAt} AS timestamptz)
)
UPDATE job_queue
   SET status       = 'deferred',
       worker_id    = NULL,
       started_at   = NULL,
       heartbeat_at = NULL,
       traceparent  = COALESCE(traceparent, :#${exchangeProperty.traceparent}),
       updated_at   = now()
  FROM claim
 WHERE job_queue.id = claim.id
