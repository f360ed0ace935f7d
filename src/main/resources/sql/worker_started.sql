-- This worker's row in caravan_workers as it starts (a row left by an earlier run under the same id
-- is taken over): who it is, what it claims, how many slots it has. Plain :name parameters.
INSERT INTO caravan_workers AS w (worker_id, host, pid, started_at, heartbeat_at, beating_since, job_types, job_lanes,
                                  concurrency, in_flight, paused)
VALUES (:workerId, :host, :pid, now(), now(), now(), CAST(:jobTypes AS text[]), CAST(:jobLanes AS text[]), :concurrency,
        0, false)
ON CONFLICT (worker_id) DO UPDATE
   SET host = excluded.host, pid = excluded.pid, started_at = now(), heartbeat_at = now(), beating_since = now(),
       job_types = excluded.job_types, job_lanes = excluded.job_lanes, concurrency = excluded.concurrency,
       in_flight = 0, paused = false
