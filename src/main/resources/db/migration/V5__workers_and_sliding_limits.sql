-- The workers alive now, and provider limits that hold over any window of their period.
--
-- caravan_workers: each worker's row, written at start-up and refreshed every heartbeat interval
-- (its types, lanes, concurrency, jobs in flight, paused or not), deleted when it stops cleanly. A
-- worker whose row has not been refreshed for the heartbeat timeout is dead: its provider leases are
-- given back at once (no waiting for them to expire) and the console shows it gone.
CREATE TABLE caravan_workers (
    worker_id     text PRIMARY KEY,
    host          text,
    pid           bigint,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    job_types     text[] NOT NULL DEFAULT '{}',
    job_lanes     text[] NOT NULL DEFAULT '{}',
    concurrency   integer NOT NULL DEFAULT 0,
    in_flight     integer NOT NULL DEFAULT 0,
    paused        boolean NOT NULL DEFAULT false
);

-- A limit of N calls per period must hold over every window of that period *at the provider*, not
-- per fixed window (where the end of one window and the start of the next could both fill, letting 2N
-- through in a moment). A call's lease is its record: kept after the call ends, with the time it ended,
-- for one more period. A call reaches the provider somewhere between its start and its end, so a new
-- call may start once fewer than N calls are in flight or ended within the last period: two calls the
-- provider sees less than a period apart are then never more than N, however long each took to arrive.
ALTER TABLE api_capacity_leases ADD COLUMN ended_at timestamptz;
CREATE INDEX api_capacity_leases_open_idx ON api_capacity_leases (provider) WHERE ended_at IS NULL;

ALTER TABLE api_capacity DROP COLUMN window_started_at, DROP COLUMN calls_in_window;

DROP FUNCTION acquire_api_capacity(text, text, uuid, integer);
DROP FUNCTION release_api_capacity(uuid);

-- Takes one call's worth of capacity. Returns a lease id when the call may go ahead (NULL lease and
-- 0 ms when the provider has no limit), or no lease and how many milliseconds to wait before asking
-- again. The provider's row lock serialises the decision across workers; it is held for one statement.
-- A lease that expired, or whose worker has sent no heartbeat for p_dead_after_ms (the worker is
-- dead), ends now: its slot is free, though it still counts toward the rate for a period.
CREATE FUNCTION acquire_api_capacity(p_provider text, p_worker_id text, p_job_id uuid, p_lease_ms integer,
                                     p_dead_after_ms integer)
    RETURNS TABLE (lease_id uuid, retry_after_ms integer)
    LANGUAGE plpgsql AS
$$
DECLARE
    cap      api_capacity;
    now_     timestamptz := clock_timestamp();
    period   interval;
    recent   integer;
    running  integer;
    freed_at timestamptz;
    lease    uuid;
BEGIN
    SELECT * INTO cap FROM api_capacity c WHERE c.provider = p_provider FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::uuid, 0;
        RETURN;
    END IF;
    period := make_interval(secs => cap.period_ms / 1000.0);
    DELETE FROM api_capacity_leases l
     WHERE l.provider = p_provider AND l.ended_at IS NOT NULL AND l.ended_at <= now_ - period;
    UPDATE api_capacity_leases l
       SET ended_at = now_
     WHERE l.provider = p_provider
       AND l.ended_at IS NULL
       AND (l.expires_at < now_
            OR NOT EXISTS (SELECT 1 FROM caravan_workers w
                            WHERE w.worker_id = l.worker_id
                              AND w.heartbeat_at > now_ - make_interval(secs => p_dead_after_ms / 1000.0)));
    SELECT count(*), count(*) FILTER (WHERE l.ended_at IS NULL), min(l.ended_at)
      INTO recent, running, freed_at
      FROM api_capacity_leases l WHERE l.provider = p_provider;
    IF recent >= cap.calls_per_period THEN
        -- the window frees a call when the earliest ended one leaves it; with all of them still in
        -- flight, when one ends
        RETURN QUERY SELECT NULL::uuid, CASE WHEN freed_at IS NULL THEN 100
            ELSE GREATEST(1, ceil(extract(epoch FROM freed_at + period - now_) * 1000)::integer) END;
        RETURN;
    END IF;
    IF running >= cap.max_concurrent THEN
        -- a call in progress usually ends well before its lease expires: ask again soon
        RETURN QUERY SELECT NULL::uuid, 100;
        RETURN;
    END IF;
    INSERT INTO api_capacity_leases (provider, worker_id, job_id, expires_at)
    VALUES (p_provider, p_worker_id, p_job_id, now_ + make_interval(secs => p_lease_ms / 1000.0))
    RETURNING api_capacity_leases.lease_id INTO lease;
    RETURN QUERY SELECT lease, 0;
END
$$;

-- Ends a lease when its call ends, whatever the outcome: the slot is free at once; the call keeps
-- counting toward the rate for a period from now.
CREATE FUNCTION release_api_capacity(p_lease_id uuid) RETURNS boolean
    LANGUAGE sql AS
$$
    WITH ended AS (UPDATE api_capacity_leases SET ended_at = clock_timestamp()
                    WHERE lease_id = p_lease_id AND ended_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM ended)
$$;
