-- Puts a failed attempt back to pending after a delay: a retry (spends an attempt, retry_count + 1)
-- or a snooze (spends none). The failure is recorded in error_details with the earlier ones kept in
-- its history (the last 20). Fenced on the claim: 0 rows updated = the claim was lost.
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
 WHERE id = :#${exchangeProperty.jobId}
   AND status = 'processing'
   AND worker_id = :#${exchangeProperty.claimWorkerId}
   AND started_at = CAST(:#${exchangeProperty.claimedAt} AS timestamptz)
