-- Every heartbeat interval: this worker is alive, with this many jobs held and claiming paused or not.
-- Written back if the row went missing (deleted by hand), so a live worker is never shown gone.
INSERT INTO caravan_workers AS w (worker_id, host, pid, heartbeat_at, job_types, job_lanes, concurrency, in_flight, paused)
VALUES (:workerId, :host, :pid, now(), CAST(:jobTypes AS text[]), CAST(:jobLanes AS text[]), :concurrency, :inFlight, :paused)
ON CONFLICT (worker_id) DO UPDATE
   SET heartbeat_at = now(), in_flight = excluded.in_flight, paused = excluded.paused
