-- Every heartbeat interval: this worker is alive, with this many jobs held and claiming paused or not.
-- Written back if the row went missing (deleted by hand), so a live worker is never shown gone.
-- Returns a pause or resume asked of it since (the console), and clears it; one asked while this runs
-- stays for the next heartbeat. (No FOR UPDATE in "asked": a locking read would see the row as this
-- statement updates it, the request already cleared.)
WITH asked AS (SELECT requested FROM caravan_workers WHERE worker_id = :workerId)
INSERT INTO caravan_workers AS w (worker_id, host, pid, heartbeat_at, job_types, job_lanes, concurrency, in_flight, paused)
VALUES (:workerId, :host, :pid, now(), CAST(:jobTypes AS text[]), CAST(:jobLanes AS text[]), :concurrency, :inFlight, :paused)
ON CONFLICT (worker_id) DO UPDATE
   SET heartbeat_at = now(), in_flight = excluded.in_flight, paused = excluded.paused,
       requested = CASE WHEN w.requested IS NOT DISTINCT FROM (SELECT requested FROM asked) THEN NULL ELSE w.requested END
RETURNING (SELECT requested FROM asked)
