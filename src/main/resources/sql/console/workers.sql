-- The console's workers: every registered worker, alive while its heartbeat is younger than the
-- heartbeat timeout (a worker stopped cleanly removes its row).
SELECT worker_id, host, pid, started_at, heartbeat_at, job_types, job_lanes, concurrency, in_flight, paused,
       heartbeat_at > now() - make_interval(secs => CAST(:#${properties:caravan.reaper.heartbeat-timeout-seconds} AS integer)) AS alive
  FROM caravan_workers
 ORDER BY worker_id
