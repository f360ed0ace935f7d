-- Returns jobs this worker claimed but will not finish (it is shutting down) to pending, without
-- spending an attempt. Matched on the claim, so a job that completed meanwhile is left alone. Rows
-- are locked in id order, as every many-row write of Caravan's does.
WITH owned AS (
    SELECT j.id
      FROM job_queue j
      JOIN unnest(CAST(:#${variable.claims[ids]} AS uuid[]),
                  CAST(:#${variable.claims[claimedAt]} AS timestamptz[])) AS c(id, started_at)
        ON j.id = c.id
     WHERE j.status = 'processing'
       AND j.worker_id = :#${bean:workerSettings.workerId}
       AND j.started_at = c.started_at
     ORDER BY j.id
       FOR NO KEY UPDATE OF j
)
UPDATE job_queue j
   SET status       = 'pending',
       worker_id    = NULL,
       started_at   = NULL,
       heartbeat_at = NULL,
       updated_at   = now()
  FROM owned
 WHERE j.id = owned.id
RETURNING j.id
