-- Jobs this worker claimed but never received: a claim whose answer was lost with its connection (a
-- failover, a killed backend, a proxy dropping the connection mid-answer) committed rows the worker
-- knows nothing of. They go back to pending without spending an attempt: they never ran here. Run on
-- the claim thread before the next claim, so no claim of this worker is in flight meanwhile. Only jobs
-- claimed since this worker process started (its caravan_workers row) and not among those it holds
-- (:held); a job left by an earlier run under the same worker id may have run, and is the reaper's.
UPDATE job_queue j
   SET status       = 'pending',
       worker_id    = NULL,
       started_at   = NULL,
       heartbeat_at = NULL,
       updated_at   = now()
 WHERE j.status = 'processing'
   AND j.worker_id = :workerId
   AND j.started_at >= (SELECT w.started_at FROM caravan_workers w WHERE w.worker_id = :workerId)
   AND NOT (j.id = ANY (CAST(:held AS uuid[])))
RETURNING j.id
