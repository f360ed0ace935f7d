-- Writes the progress this worker's jobs reported since the last round (JobProgress), in one
-- statement. Each row is matched on its claim (id, worker id, claim instant), whatever its status:
-- the last report of a run that has just ended (completed, failed, cancelled) still lands, so the row
-- says how far the run got; a job reaped, retried or claimed again since is left alone. A row another
-- statement holds (the heartbeat, a write-back) is waited for, not skipped: skipped, a report could
-- meet the heartbeat again the next round, and the next (their timers tick together when one interval
-- divides the other), and never show. The rows are locked in id order, as by every many-row write
-- that waits (complete_jobs.sql, release_jobs.sql), so none of them can deadlock with another, and
-- FOR NO KEY UPDATE, the lock the UPDATE takes anyway. The ids written are returned.
WITH reported AS (
    SELECT *
      FROM unnest(CAST(:#${variable.progress[ids]} AS uuid[]),
                  CAST(:#${variable.progress[claimedAt]} AS timestamptz[]),
                  CAST(:#${variable.progress[progress]} AS jsonb[])) AS p(id, started_at, progress)
),
mine AS (
    SELECT j.id, reported.progress
      FROM job_queue j
      JOIN reported ON reported.id = j.id AND reported.started_at = j.started_at
     WHERE j.worker_id = :#${bean:workerSettings.workerId}
     ORDER BY j.id
       FOR NO KEY UPDATE OF j
)
UPDATE job_queue j
   SET progress = mine.progress
  FROM mine
 WHERE j.id = mine.id
RETURNING j.id
