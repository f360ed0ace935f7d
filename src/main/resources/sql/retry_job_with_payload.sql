-- Puts a failed (or dead-lettered) job back to pending with its payload corrected by a top-level merge
-- patch (the old payload kept in job_payload_edits, the edit recorded with who did it and which fields).
-- No row = not found, or not failed.
SELECT id, status FROM retry_job_with_payload(CAST(:#${variable.jobId} AS uuid), CAST(:#${variable.payload} AS jsonb),
                                              :#${variable.actor})
