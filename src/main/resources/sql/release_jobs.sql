-- Returns jobs this worker claimed but will not finish (it is shutting down) to pending, without
-- spending an attempt. Matched on the claim, so a job that completed meanwhile is left alone.
UPDATE job_queue j
   SET status       = 'pending',
       worker_id    = NULL,
       started_at   = NULL,
       heartbeat_at = NULL,
       updated_at   = now()
  FROM unnest(CAST(:#${variable.claims[ids]} AS uuid[]),
              CAST(:#${variable.claims[claimedAt]} AS timestamptz[])) AS c(id, started_at)
 WHERE j.id = c.id
   AND j.status = 'processing'
   AND j.worker_id = :#${bean:workerSettings.workerId}
   AND j.started_at = c.started_at
RETURNING j.id
