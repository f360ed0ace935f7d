-- Fails pending jobs that can never run because a job they depend on ended failed or cancelled
-- (DEPENDENCY_FAILED). Permanent: no attempt is retried. Batched; run by the reaper.
WITH blocked AS (
    SELECT j.id,
           (SELECT d.id || ' is ' || d.status
              FROM job_queue d
             WHERE d.id = ANY (j.depends_on)
               AND d.status IN ('failed', 'cancelled')
             LIMIT 1) AS reason
      FROM job_queue j
     WHERE j.status = 'pending'
       AND j.depends_on IS NOT NULL
       AND EXISTS (SELECT 1
                     FROM job_queue d
                    WHERE d.id = ANY (j.depends_on)
                      AND d.status IN ('failed', 'cancelled'))
     LIMIT CAST(:#${properties:caravan.reaper.batch-size} AS integer)
       FOR UPDATE OF j SKIP LOCKED
)
UPDATE job_queue j
   SET status        = 'failed',
       completed_at  = now(),
       last_error    = 'dependency ' || blocked.reason,
       error_details = jsonb_build_object(
                           'code', 'DEPENDENCY_FAILED',
                           'message', 'dependency ' || blocked.reason,
                           'kind', 'permanent',
                           'retryable', false,
                           'attempt', j.retry_count,
                           'failed_at', now(),
                           'correlation_id', COALESCE(j.job_payload ->> 'correlation_id', j.id::text),
                           'history', COALESCE(j.error_details -> 'history', '[]'::jsonb)),
       updated_at    = now()
  FROM blocked
 WHERE j.id = blocked.id
RETURNING j.id
