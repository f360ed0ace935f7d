-- Fair claiming (CLAIM_FAIRNESS=job_group): as claim_jobs.sql, but within the same priority the free
-- slots are shared round robin between the job groups (tenants: a clinic, a customer) that have due
-- work, so one group's 100,000 queued documents do not make another's ten wait behind them. Jobs
-- without a group share one turn. With CLAIM_FAIR_MAX_RUNNING > 0, a group with that many jobs
-- processing (on every worker) gets no more until one ends; two workers claiming at the same instant
-- may each count before the other's claim commits, so the cap can be passed by a claim's worth.
-- Still one autocommitted statement, with the parameters of claim_jobs.sql (ClaimParameters).
WITH RECURSIVE params AS MATERIALIZED (
    SELECT CAST(:#jobTypes AS text[]) AS types,
           CAST(:#jobLanes AS text[]) AS lanes,
           CAST(:#claimSlots AS integer) AS slots,
           CAST(:#fairMaxRunning AS integer) AS cap
),
-- every group with pending work, one probe of job_queue_fair_idx each (a loose index scan)
groups AS (
    (SELECT j.job_group AS g
       FROM job_queue j
      WHERE j.status = 'pending' AND j.job_group IS NOT NULL
      ORDER BY j.job_group
      LIMIT 1)
    UNION ALL
    SELECT (SELECT j.job_group
              FROM job_queue j
             WHERE j.status = 'pending' AND j.job_group > groups.g
             ORDER BY j.job_group
             LIMIT 1)
      FROM groups
     WHERE groups.g IS NOT NULL
),
-- each group's next due jobs in claim order, numbered: its first job has turn 1, its second turn 2
candidates AS (
    SELECT c.*
      FROM groups
     CROSS JOIN params p
     CROSS JOIN LATERAL (
           SELECT j.id, j.priority, j.scheduled_at, j.created_at,
                  row_number() OVER (ORDER BY j.priority, j.scheduled_at, j.created_at) AS turn
             FROM job_queue j
            WHERE j.status = 'pending'
              AND j.job_group = groups.g
              AND j.scheduled_at <= now()
              AND j.job_type = ANY (p.types)
              AND (j.job_lane IS NULL OR p.lanes = '{}' OR j.job_lane = ANY (p.lanes))
              AND (j.depends_on IS NULL
                   OR NOT EXISTS (SELECT 1 FROM job_queue d WHERE d.id = ANY (j.depends_on) AND d.status <> 'completed'))
            ORDER BY j.priority, j.scheduled_at, j.created_at
            LIMIT CASE WHEN p.cap > 0
                       THEN LEAST(p.slots, GREATEST(0, p.cap - (SELECT count(*)
                                                                  FROM job_queue r
                                                                 WHERE r.job_group = groups.g
                                                                   AND r.status = 'processing')))
                       ELSE p.slots END
     ) c
     WHERE groups.g IS NOT NULL
    UNION ALL
    SELECT c.*
      FROM params p
     CROSS JOIN LATERAL (
           SELECT j.id, j.priority, j.scheduled_at, j.created_at,
                  row_number() OVER (ORDER BY j.priority, j.scheduled_at, j.created_at) AS turn
             FROM job_queue j
            WHERE j.status = 'pending'
              AND j.job_group IS NULL
              AND j.scheduled_at <= now()
              AND j.job_type = ANY (p.types)
              AND (j.job_lane IS NULL OR p.lanes = '{}' OR j.job_lane = ANY (p.lanes))
              AND (j.depends_on IS NULL
                   OR NOT EXISTS (SELECT 1 FROM job_queue d WHERE d.id = ANY (j.depends_on) AND d.status <> 'completed'))
            ORDER BY j.priority, j.scheduled_at, j.created_at
            LIMIT p.slots
     ) c
),
-- the first turns of every group first (by priority), locked as they are taken: a row another worker
-- is claiming is skipped and the next turn taken instead
due AS (
    SELECT j.id
      FROM job_queue j
      JOIN candidates c ON c.id = j.id
     WHERE j.status = 'pending'
     ORDER BY c.priority, c.turn, c.scheduled_at, c.created_at
     LIMIT (SELECT slots FROM params)
       FOR UPDATE OF j SKIP LOCKED
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
          (extract(epoch FROM now() - GREATEST(j.scheduled_at, j.created_at)) * 1000)::bigint AS pickup_delay_ms
