-- Refreshes the heartbeat of every job this worker is running, in one statement. Each row is
-- matched on its claim (id, worker id, claim instant), so a job reaped or cancelled meanwhile is
-- left alone. A row another statement holds is skipped, never waited for: it is being written back
-- (completed, failed, handed back) or reaped or cancelled, and its heartbeat no longer matters. So
-- this statement never waits on, and never deadlocks with, a completion batch over the same jobs.
WITH mine AS (
    SELECT j.id
      FROM job_queue j
      JOIN unnest(CAST(:#${variable.claims[ids]} AS uuid[]),
                  CAST(:#${variable.claims[claimedAt]} AS timestamptz[])) AS c(id, started_at)
        ON j.id = c.id
     WHERE j.status = 'processing'
       AND j.worker_id = :#${bean:workerSettings.workerId}
       AND j.started_at = c.started_at
       FOR UPDATE OF j SKIP LOCKED
)
UPDATE job_queue j
   SET heartbeat_at = now()
  FROM mine
 WHERE j.id = mine.id
