-- Stores a job's result. Fenced on the claim: it changes the row only while it is still
-- 'processing' under the same worker id and claim instant; 0 rows updated = the claim was lost
-- (reaped, cancelled, released) and nothing is written.
UPDATE job_queue
   SET status          = 'completed',
       job_result      = CAST(:#${variable.resultJson} AS jsonb),
       output_files    = NULLIF(CAST(:#${variable.outputFiles} AS text[]), '{}'),
       completed_at    = now(),
       actual_duration = now() - started_at,
       heartbeat_at    = NULL,
       updated_at      = now()
 WHERE id = :#${exchangeProperty.jobId}
   AND status = 'processing'
   AND worker_id = :#${exchangeProperty.claimWorkerId}
   AND started_at = CAST(:#${exchangeProperty.claimedAt} AS timestamptz)
