-- Writes the progress this worker's jobs reported since the last round (JobProgress), in one
-- statement. Each row is matched on its claim (id, worker id, claim instant), whatever its status:
-- the last report of a run that has just ended (completed, failed, cancelled) still lands, so the row
-- says how far the run got; a job reaped, retried or claimed again since is left alone. A row another
-- statement holds (its write-back) is skipped, never waited for, as by the heartbeat (so never a
-- deadlock with a completion batch), and tried again next round: the ids written are returned.
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
       FOR UPDATE OF j SKIP LOCKED
)
UPDATE job_queue j
   SET progress = mine.progress
  FROM mine
 WHERE j.id = mine.id
RETURNING j.id
