-- Refreshes the heartbeat of every job this worker is running, in one statement, and answers the
-- ones among them that were cancelled meanwhile, so the worker stops their runs (where LISTEN on
-- caravan_job_cancel is not available, behind a transaction-mode pooler, this is how a cancel reaches
-- it). Each row is matched on its claim (id, worker id, claim instant), so a job reaped, or retried and
-- claimed again, is left alone. A row another statement holds is skipped, never waited for: it is being
-- written back (completed, failed, handed back) or reaped or cancelled, and its heartbeat no longer
-- matters. So this statement never waits on, and never deadlocks with, a completion batch over the same jobs.
WITH held AS (
    SELECT j.id, j.status
      FROM job_queue j
      JOIN unnest(CAST(:#${variable.claims[ids]} AS uuid[]),
                  CAST(:#${variable.claims[claimedAt]} AS timestamptz[])) AS c(id, started_at)
        ON j.id = c.id
     WHERE j.status IN ('processing', 'cancelled')
       AND j.worker_id = :#${bean:workerSettings.workerId}
       AND j.started_at = c.started_at
),
mine AS (
    -- the status is asked again of the row as locked: one written back between the read above and
    -- the lock (completed, deferred for its batch) must not get a heartbeat (the column's CHECK)
    SELECT j.id
      FROM job_queue j
      JOIN held ON held.id = j.id AND held.status = 'processing'
     WHERE j.status = 'processing'
       FOR UPDATE OF j SKIP LOCKED
),
beat AS (
    UPDATE job_queue j
       SET heartbeat_at = now()
      FROM mine
     WHERE j.id = mine.id
    RETURNING j.id
)
SELECT id FROM held WHERE status = 'cancelled'
