-- Puts a failed (or dead-lettered) job back to pending with a fresh set of attempts (retry_failed_jobs:
-- its error history kept, the action recorded with who did it), its payload first corrected by
-- variable payload when there is one (retry_job_with_payload: a top-level merge patch, the old payload
-- kept in job_payload_edits); without one, a plain retry. No row = not found, or not failed.
SELECT id, status FROM retry_job_with_payload(CAST(:#${variable.jobId} AS uuid), CAST(:#${variable.payload} AS jsonb),
                                              :#${variable.actor})
