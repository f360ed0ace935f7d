-- Claims at most as many jobs as this worker has free slots: pending, due, of this worker's job
-- types and lanes, whose depends_on jobs have all completed; in priority, scheduled_at, created_at
-- order; skipping rows another worker is claiming. One autocommitted statement: every returned row
-- is already 'processing' under this worker's id and claim instant (started_at) before it is routed.
-- Parameters: this worker's id, job types and lanes, and its free slots at this poll (ClaimParameters,
-- the route's prepareStatementStrategy: a consumer's statement has no message to take them from).
WITH due AS (
    SELECT j.id
      FROM job_queue j
     WHERE j.status = 'pending'
       AND j.scheduled_at <= now()
       AND j.job_type = ANY (CAST(:#jobTypes AS text[]))
       AND (j.job_lane IS NULL
            OR CAST(:#jobLanes AS text[]) = '{}'
            OR j.job_lane = ANY (CAST(:#jobLanes AS text[])))
       AND (j.depends_on IS NULL
            OR NOT EXISTS (SELECT 1
                             FROM job_queue d
                            WHERE d.id = ANY (j.depends_on)
                              AND d.status <> 'completed'))
     ORDER BY j.priority, j.scheduled_at, j.created_at
     LIMIT CAST(:#claimSlots AS integer)
       FOR UPDATE SKIP LOCKED
)
UPDATE job_queue j
   SET status       = 'processing',
       worker_id    = :#workerId,
       started_at   = now(),
       heartbeat_at = now(),
       completed_at = NULL,
       updated_at   = now()
  FROM due
 WHERE j.id = due.id
RETURNING j.id,
          j.job_type,
          j.job_lane,
          j.job_name,
          j.job_group,
          j.job_payload::text AS job_payload,
          j.retry_count,
          j.max_retries,
          (extract(epoch FROM j.retry_delay) * 1000)::bigint AS retry_delay_ms,
          j.worker_id,
          j.started_at::text AS claimed_at,
          (extract(epoch FROM now() - GREATEST(j.scheduled_at, j.created_at)) * 1000)::bigint AS pickup_delay_ms,
          j.traceparent
