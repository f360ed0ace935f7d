-- Rescues jobs whose worker stopped sending heartbeats (crashed, frozen, cut off) for longer than
-- the timeout: back to pending spending an attempt, or failed and dead-lettered when attempts are
-- exhausted. Any worker may run it; SKIP LOCKED and the batch limit keep runs short and disjoint.
-- Only on evidence that the job's worker is gone, not that the database was: the reaping worker's own
-- heartbeats must be current (the last one within two intervals) and have run unbroken for the whole
-- timeout, and never less than a live worker needs to reconnect (caravan_workers.beating_since;
-- WorkerRegistry.settleSeconds), so after a restart, a failover or a pooler's stall every live worker
-- has had the time to be heard again before anyone's silence is judged. Matches nothing while that is
-- not so.
-- attempts_left: the rule of JobRow.attemptsLeft, decided once per row here.
WITH stale AS (
    SELECT id, retry_count < max_retries AS attempts_left
      FROM job_queue
     WHERE status = 'processing'
       AND COALESCE(heartbeat_at, started_at, updated_at)
           < now() - make_interval(secs => CAST(:#${properties:caravan.reaper.heartbeat-timeout-seconds} AS double precision))
       AND EXISTS (SELECT 1 FROM caravan_workers me
                    WHERE me.worker_id = :#${bean:workerSettings.workerId}
                      AND me.heartbeat_at > now() - make_interval(
                              secs => 2 * CAST(:#${properties:caravan.heartbeat.interval-ms} AS double precision) / 1000)
                      AND me.beating_since <= now() - make_interval(
                              secs => CAST(:#${bean:workerRegistry.reaperSettleSeconds} AS double precision)))
     ORDER BY heartbeat_at
     LIMIT CAST(:#${properties:caravan.reaper.batch-size} AS integer)
       FOR UPDATE SKIP LOCKED
)
UPDATE job_queue j
   SET status          = CASE WHEN stale.attempts_left THEN 'pending' ELSE 'failed' END,
       retry_count     = CASE WHEN stale.attempts_left THEN j.retry_count + 1 ELSE j.retry_count END,
       dead_letter_at  = CASE WHEN stale.attempts_left THEN NULL ELSE now() END,
       completed_at    = CASE WHEN stale.attempts_left THEN NULL ELSE now() END,
       actual_duration = CASE WHEN stale.attempts_left THEN NULL ELSE now() - j.started_at END,
       scheduled_at    = CASE WHEN stale.attempts_left THEN now() ELSE j.scheduled_at END,
       started_at      = CASE WHEN stale.attempts_left THEN NULL ELSE j.started_at END,
       worker_id       = CASE WHEN stale.attempts_left THEN NULL ELSE j.worker_id END,
       heartbeat_at    = NULL,
       last_error      = 'worker ' || COALESCE(j.worker_id, '?') || ' stopped sending heartbeats',
       error_details   = job_error_details(j.error_details, jsonb_build_object(
                             'code', 'HEARTBEAT_TIMEOUT',
                             'message', 'worker ' || COALESCE(j.worker_id, '?') || ' stopped sending heartbeats',
                             'kind', 'retryable',
                             'retryable', true,
                             'attempt', j.retry_count + 1,
                             'worker_id', j.worker_id,
                             'last_heartbeat_at', j.heartbeat_at,
                             'reaped_by', :#${bean:workerSettings.workerId},
                             'failed_at', now(),
                             'correlation_id', COALESCE(j.job_payload ->> 'correlation_id', j.id::text),
                             'dead_letter_reason', CASE WHEN stale.attempts_left THEN NULL
                                                        ELSE 'max_retries (' || j.max_retries || ') exhausted' END)),
       updated_at      = now()
  FROM stale
 WHERE j.id = stale.id
RETURNING j.id, j.status
