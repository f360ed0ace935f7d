-- Refreshes the heartbeat of every job this worker is running, in one statement. Each row is
-- matched on its claim (id, worker id, claim instant), so a job reaped or cancelled meanwhile is
-- left alone.
UPDATE job_queue j
   SET heartbeat_at = now()
  FROM unnest(CAST(:#${variable.claims[ids]} AS uuid[]),
              CAST(:#${variable.claims[claimedAt]} AS timestamptz[])) AS c(id, started_at)
 WHERE j.id = c.id
   AND j.status = 'processing'
   AND j.worker_id = :#${bean:workerSettings.workerId}
   AND j.started_at = c.started_at
