-- Every heartbeat interval: this worker is alive, with this many jobs held and claiming paused or not.
-- Written back if the row went missing (deleted by hand), so a live worker is never shown gone.
-- beating_since starts again when this heartbeat comes later than :gapSeconds after the last one: the
-- database was away meanwhile (see reap_stale_jobs.sql), whatever the worker itself noticed of it.
-- Returns a pause or resume asked of it since (the console), and clears it; one asked while this runs
-- stays for the next heartbeat. (No FOR UPDATE in "asked": a locking read would see the row as this
-- statement updates it, the request already cleared.)
WITH asked AS (SELECT requested FROM caravan_workers WHERE worker_id = :workerId)
INSERT INTO caravan_workers AS w (worker_id, host, pid, heartbeat_at, beating_since, job_types, job_lanes, concurrency,
                                  in_flight, paused)
VALUES (:workerId, :host, :pid, now(), now(), CAST(:jobTypes AS text[]), CAST(:jobLanes AS text[]), :concurrency,
        :inFlight, :paused)
ON CONFLICT (worker_id) DO UPDATE
   SET heartbeat_at = now(),
       beating_since = CASE WHEN w.heartbeat_at < now() - make_interval(secs => CAST(:gapSeconds AS double precision))
                            THEN now() ELSE w.beating_since END,
       in_flight = excluded.in_flight, paused = excluded.paused,
       requested = CASE WHEN w.requested IS NOT DISTINCT FROM (SELECT requested FROM asked) THEN NULL ELSE w.requested END
RETURNING (SELECT requested FROM asked)
