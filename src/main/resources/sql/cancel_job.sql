-- Cancels a job that has not finished. A running job's worker is fenced out: its write-back finds
-- the row no longer 'processing' and changes nothing. The action is recorded (job_action: who, when).
-- No row = not found, or already finished.
UPDATE job_queue
   SET status          = 'cancelled',
       heartbeat_at    = NULL,
       completed_at    = now(),
       actual_duration = CASE WHEN started_at IS NOT NULL THEN now() - started_at END,
       last_error      = 'cancelled through the ' || :#${variable.actor},
       error_details   = job_action(error_details, 'cancel', :#${variable.actor}),
       updated_at      = now()
 WHERE id = :#${variable.jobId}
   AND status IN ('pending', 'processing', 'retrying', 'deferred')
RETURNING id, status
