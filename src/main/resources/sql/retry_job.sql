-- Puts a failed (or dead-lettered) job back to pending with a fresh set of attempts; its
-- error_details keep the history. No row = not found, or not failed.
UPDATE job_queue
   SET status          = 'pending',
       scheduled_at    = now(),
       retry_count     = 0,
       dead_letter_at  = NULL,
       worker_id       = NULL,
       started_at      = NULL,
       completed_at    = NULL,
       actual_duration = NULL,
       updated_at      = now()
 WHERE id = :#${variable.jobId}
   AND status = 'failed'
RETURNING id, status
