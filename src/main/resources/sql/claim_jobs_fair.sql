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
-- every group with pending work, one probe of job_queue_fair_idx each (a loose index scan: the ORDER BY
-- is the index's own, so each probe reads one entry, whatever the group's finished jobs)
groups AS (
    (SELECT j.job_group AS g
       FROM job_queue j
      WHERE j.status = 'pending' AND j.job_group IS NOT NULL
      ORDER BY j.job_group, j.priority, j.scheduled_at, j.created_at
      LIMIT 1)
    UNION ALL
    SELECT (SELECT j.job_group
              FROM job_queue j
             WHERE j.status = 'pending' AND j.job_group > groups.g
             ORDER BY j.job_group, j.priority, j.scheduled_at, j.created_at
             LIMIT 1)
      FROM groups
     WHERE groups.g IS NOT NULL
),
-- how many of each group's next jobs are candidates: its share of the free slots (the jobs without a
-- group counting as one group), four times over, as other workers claiming at the same instant lock
-- the first ones (SKIP LOCKED takes the next)
turns AS MATERIALIZED (
    SELECT 4 * ceil(p.slots::numeric / (1 + (SELECT count(*) FROM groups WHERE g IS NOT NULL)))::integer AS per_group
      FROM params p
),
-- each group's next due jobs in claim order (at most its turns, or what its cap leaves), then
-- numbered: a group's first job has turn 1, its second turn 2 (numbered after the LIMIT, over a few
-- rows: a window inside the LATERAL would read the group's whole backlog)
candidates AS (
    SELECT c.*, row_number() OVER (PARTITION BY c.g ORDER BY c.priority, c.scheduled_at, c.created_at) AS turn
      FROM (
        SELECT groups.g, n.*
          FROM groups
         CROSS JOIN params p
         CROSS JOIN LATERAL (
               SELECT j.id, j.priority, j.scheduled_at, j.created_at
                 FROM job_queue j
                WHERE j.status = 'pending'
                  AND j.job_group = groups.g
                  AND j.scheduled_at <= now()
                  AND j.job_type = ANY (p.types)
                  AND (j.job_lane IS NULL OR p.lanes = '{}' OR j.job_lane = ANY (p.lanes))
                  AND (j.depends_on IS NULL
                       OR NOT EXISTS (SELECT 1 FROM job_queue d WHERE d.id = ANY (j.depends_on) AND d.status <> 'completed'))
                -- job_queue_fair_idx's own order (the group is one value): read from it, never sorted
                ORDER BY j.job_group, j.priority, j.scheduled_at, j.created_at
                LIMIT CASE WHEN p.cap > 0
                           THEN LEAST((SELECT per_group FROM turns), GREATEST(0, p.cap - (SELECT count(*)
                                                                      FROM job_queue r
                                                                     WHERE r.job_group = groups.g
                                                                       AND r.status = 'processing')))
                           ELSE (SELECT per_group FROM turns) END
         ) n
         WHERE groups.g IS NOT NULL
        UNION ALL
        -- jobs without a group: one more group of their own
        SELECT NULL, n.*
          FROM params p
         CROSS JOIN LATERAL (
               SELECT j.id, j.priority, j.scheduled_at, j.created_at
                 FROM job_queue j
                WHERE j.status = 'pending'
                  AND j.job_group IS NULL
                  AND j.scheduled_at <= now()
                  AND j.job_type = ANY (p.types)
                  AND (j.job_lane IS NULL OR p.lanes = '{}' OR j.job_lane = ANY (p.lanes))
                  AND (j.depends_on IS NULL
                       OR NOT EXISTS (SELECT 1 FROM job_queue d WHERE d.id = ANY (j.depends_on) AND d.status <> 'completed'))
                ORDER BY j.job_group, j.priority, j.scheduled_at, j.created_at
                LIMIT (SELECT per_group FROM turns)
         ) n
      ) c
),
-- the first turns of every group first (by priority), a few more than the free slots kept in that order
ranked AS MATERIALIZED (
    SELECT id, row_number() OVER (ORDER BY priority, turn, scheduled_at, created_at) AS pos
      FROM candidates
     ORDER BY pos
     LIMIT (SELECT 4 * slots FROM params)
),
-- locked in that order as they are taken, each by its primary key (a lookup per row, not a scan of the
-- table): a row another worker is claiming is skipped and the next turn taken instead; the LIMIT stops
-- the taking, so no more rows are locked than are claimed
due AS (
    SELECT l.id
      FROM ranked r
     CROSS JOIN LATERAL (
           SELECT j.id
             FROM job_queue j
            WHERE j.id = r.id
              AND j.status = 'pending'
              FOR UPDATE SKIP LOCKED
     ) l
     LIMIT (SELECT slots FROM params)
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
