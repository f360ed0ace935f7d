-- Puts a failed (or dead-lettered) job back to pending with a fresh set of attempts (retry_failed_jobs:
-- its error history kept, the action recorded with who did it). No row = not found, or not failed.
SELECT id, status FROM retry_failed_jobs(ARRAY[CAST(:#${variable.jobId} AS uuid)], :#${variable.actor})
