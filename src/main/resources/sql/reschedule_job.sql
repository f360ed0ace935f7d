-- Puts a failed attempt back to pending after a delay: a retry (spends an attempt, retry_count + 1)
-- or a snooze (spends none). The failure is recorded in error_details with the earlier ones kept in
-- its history (the last 20). Fenced on the claim: 0 rows updated = the claim was lost.
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
   SET status        = 'pending',
       scheduled_at  = now() + make_interval(secs => CAST(:#${variable.failure.delaySeconds} AS double precision)),
       retry_count   = retry_count + CAST(:#${variable.failure.spentAttempts} AS integer),
       worker_id     = NULL,
       started_at    = NULL,
       heartbeat_at  = NULL,
       last_error    = :#${variable.failure.message},
       -- a job queued without a trace context keeps its first run's: its next attempts join that trace
       traceparent   = COALESCE(traceparent, :#${exchangeProperty.traceparent}),
       error_details = job_error_details(error_details,
                           CAST(:#${variable.failure.detailsJson} AS jsonb)
                           || jsonb_build_object(
                                  'failed_at', now(),
                                  'next_run_at', now() + make_interval(secs => CAST(:#${variable.failure.delaySeconds} AS double precision)),
                                  'duration_ms', round(extract(epoch FROM now() - started_at) * 1000))),
       updated_at    = now()
  FROM claim
 WHERE job_queue.id = claim.id
