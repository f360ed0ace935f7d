-- Fails a job for good: a permanent failure, or a retryable one whose attempts are exhausted
-- (then dead_letter_at is set too). Duration is filled and the heartbeat cleared, as on completion.
-- Fenced on the claim: 0 rows updated = the claim was lost.
UPDATE job_queue
   SET status          = 'failed',
       completed_at    = now(),
       actual_duration = now() - started_at,
       heartbeat_at    = NULL,
       dead_letter_at  = CASE WHEN CAST(:#${variable.failure.deadLetter} AS boolean) THEN now() END,
       last_error      = :#${variable.failure.message},
       error_details   = job_error_details(error_details,
                             CAST(:#${variable.failure.detailsJson} AS jsonb)
                             || jsonb_build_object(
                                    'failed_at', now(),
                                    'duration_ms', round(extract(epoch FROM now() - started_at) * 1000))),
       updated_at      = now()
 WHERE id = :#${exchangeProperty.jobId}
   AND status = 'processing'
   AND worker_id = :#${exchangeProperty.claimWorkerId}
   AND started_at = CAST(:#${exchangeProperty.claimedAt} AS timestamptz)
