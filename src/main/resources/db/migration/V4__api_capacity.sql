-- Seed 001's acquire_api_capacity / release_api_capacity: a limit per provider (calls per period and
-- calls at once) that holds across every worker sharing this database, not just per process.
-- A provider without a row here is unlimited. Workers write their configured limits at start-up
-- (caravan.providers.<name>.calls-per-period, .period-ms, .max-concurrent).
CREATE TABLE api_capacity (
    provider          text PRIMARY KEY,
    calls_per_period  integer NOT NULL CHECK (calls_per_period > 0),
    period_ms         integer NOT NULL CHECK (period_ms > 0),
    max_concurrent    integer NOT NULL CHECK (max_concurrent > 0),
    window_started_at timestamptz NOT NULL DEFAULT now(),
    calls_in_window   integer NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per call in progress. A lease expires on its own (the call's timeout plus a margin), so a
-- worker that dies mid-call cannot hold capacity for ever.
CREATE TABLE api_capacity_leases (
    lease_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider   text NOT NULL REFERENCES api_capacity (provider) ON DELETE CASCADE,
    worker_id  text NOT NULL,
    job_id     uuid,
    acquired_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX api_capacity_leases_provider_idx ON api_capacity_leases (provider, expires_at);

-- Takes one call's worth of capacity. Returns a lease id when the call may go ahead (NULL lease and
-- 0 ms when the provider has no limit), or no lease and how many milliseconds to wait before asking
-- again. The provider's row lock serialises the decision across workers; it is held for one statement.
CREATE FUNCTION acquire_api_capacity(p_provider text, p_worker_id text, p_job_id uuid, p_lease_ms integer)
    RETURNS TABLE (lease_id uuid, retry_after_ms integer)
    LANGUAGE plpgsql AS
$$
DECLARE
    cap     api_capacity;
    now_    timestamptz := clock_timestamp();
    period  interval;
    running integer;
    lease   uuid;
BEGIN
    SELECT * INTO cap FROM api_capacity c WHERE c.provider = p_provider FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::uuid, 0;
        RETURN;
    END IF;
    period := make_interval(secs => cap.period_ms / 1000.0);
    IF now_ >= cap.window_started_at + period THEN
        cap.window_started_at := now_;
        cap.calls_in_window := 0;
    END IF;
    IF cap.calls_in_window >= cap.calls_per_period THEN
        RETURN QUERY SELECT NULL::uuid,
            GREATEST(1, ceil(extract(epoch FROM cap.window_started_at + period - now_) * 1000)::integer);
        RETURN;
    END IF;
    DELETE FROM api_capacity_leases l WHERE l.provider = p_provider AND l.expires_at < now_;
    SELECT count(*) INTO running FROM api_capacity_leases l WHERE l.provider = p_provider;
    IF running >= cap.max_concurrent THEN
        -- a call in progress usually ends well before its lease expires: ask again soon
        RETURN QUERY SELECT NULL::uuid, 100;
        RETURN;
    END IF;
    UPDATE api_capacity c
       SET window_started_at = cap.window_started_at, calls_in_window = cap.calls_in_window + 1, updated_at = now_
     WHERE c.provider = p_provider;
    INSERT INTO api_capacity_leases (provider, worker_id, job_id, expires_at)
    VALUES (p_provider, p_worker_id, p_job_id, now_ + make_interval(secs => p_lease_ms / 1000.0))
    RETURNING api_capacity_leases.lease_id INTO lease;
    RETURN QUERY SELECT lease, 0;
END
$$;

-- Gives a lease back when its call ends, whatever the outcome.
CREATE FUNCTION release_api_capacity(p_lease_id uuid) RETURNS boolean
    LANGUAGE sql AS
$$
    WITH gone AS (DELETE FROM api_capacity_leases WHERE lease_id = p_lease_id RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM gone)
$$;
