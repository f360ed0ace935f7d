-- The producers' door: enqueue_job_v3, with seed 001's name and parameters (job_type, job_name,
-- job_payload, job_category, priority, p_scheduled_at, p_job_lane) and Caravan's additions, all
-- optional. The HTTP API calls it too, so a job inserted through SQL and one posted over HTTP pass
-- the same checks: the table's constraints and triggers, idempotency, and backpressure.

-- Backpressure per job type: when a type has this many pending jobs, a new one is scheduled later
-- ('delay') or refused ('refuse'; the API answers 429 with Retry-After). No row = no limit.
CREATE TABLE job_type_limits (
    job_type    text PRIMARY KEY REFERENCES job_types (job_type),
    max_pending integer NOT NULL CHECK (max_pending > 0),
    over_limit  text NOT NULL DEFAULT 'delay' CHECK (over_limit IN ('delay', 'refuse')),
    delay       interval NOT NULL DEFAULT '1 minute' CHECK (delay > interval '0')
);

CREATE FUNCTION enqueue_job_v3(
    job_type          text,
    job_name          text,
    job_payload       jsonb,
    job_category      text DEFAULT 'standard',
    priority          integer DEFAULT 5,
    p_scheduled_at    timestamptz DEFAULT now(),
    p_job_lane        text DEFAULT NULL,
    p_max_retries     integer DEFAULT 3,
    p_job_group       text DEFAULT NULL,
    p_depends_on      uuid[] DEFAULT NULL,
    p_idempotency_key text DEFAULT NULL)
RETURNS TABLE (job_id uuid, status text, scheduled_at timestamptz, created boolean)
LANGUAGE plpgsql AS
$$
DECLARE
    lim      job_type_limits%ROWTYPE;
    pending  integer;
    due      timestamptz := COALESCE(p_scheduled_at, now());
    new_id   uuid;
BEGIN
    IF job_name IS NULL OR btrim(job_name) = '' THEN
        RAISE EXCEPTION 'job_name must not be empty' USING ERRCODE = 'not_null_violation', COLUMN = 'job_name';
    END IF;
    IF length(job_name) > 500 THEN
        RAISE EXCEPTION 'job_name is longer than 500 characters' USING ERRCODE = 'string_data_right_truncation',
            COLUMN = 'job_name';
    END IF;

    IF p_idempotency_key IS NOT NULL THEN
        RETURN QUERY SELECT q.id, q.status, q.scheduled_at, false
                       FROM job_queue q WHERE q.idempotency_key = p_idempotency_key;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;

    SELECT * INTO lim FROM job_type_limits l WHERE l.job_type = enqueue_job_v3.job_type;
    IF FOUND THEN
        SELECT count(*) INTO pending
          FROM (SELECT 1 FROM job_queue q
                 WHERE q.status = 'pending' AND q.job_type = enqueue_job_v3.job_type
                 LIMIT lim.max_pending) AS p;
        IF pending >= lim.max_pending THEN
            IF lim.over_limit = 'refuse' THEN
                RAISE EXCEPTION 'queue for job type % is full (% pending, limit %)',
                    enqueue_job_v3.job_type, pending, lim.max_pending
                    USING ERRCODE = 'configuration_limit_exceeded', COLUMN = 'job_type',
                          HINT = 'retry after ' || ceil(extract(epoch FROM lim.delay))::integer || ' seconds';
            END IF;
            due := greatest(due, now() + lim.delay);
        END IF;
    END IF;

    INSERT INTO job_queue AS q (job_type, job_lane, job_name, job_payload, job_category, priority, scheduled_at,
                                max_retries, job_group, depends_on, idempotency_key)
    VALUES (enqueue_job_v3.job_type, p_job_lane, job_name, job_payload, COALESCE(job_category, 'standard'),
            COALESCE(priority, 5), due, COALESCE(p_max_retries, 3), p_job_group, p_depends_on, p_idempotency_key)
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING q.id INTO new_id;

    IF new_id IS NULL THEN
        -- a concurrent submit with the same key won the race: give back its job
        RETURN QUERY SELECT q.id, q.status, q.scheduled_at, false
                       FROM job_queue q WHERE q.idempotency_key = p_idempotency_key;
        RETURN;
    END IF;
    RETURN QUERY SELECT q.id, q.status, q.scheduled_at, true FROM job_queue q WHERE q.id = new_id;
END
$$;

-- A job as the HTTP API shows it (GET /api/jobs, /api/jobs/{id}): JSON columns as text, arrays as
-- JSON, attempts made so far, and the text form of created_at that list cursors carry.
CREATE VIEW job_queue_api AS
SELECT id, job_type, job_lane, job_name, status, priority, retry_count, max_retries,
       retry_count + CASE WHEN started_at IS NOT NULL AND status IN ('processing', 'completed', 'failed')
                          THEN 1 ELSE 0 END AS attempts,
       job_group, worker_id, job_payload ->> 'correlation_id' AS correlation_id,
       array_to_json(depends_on)::text AS depends_on,
       job_result::text AS job_result, array_to_json(output_files)::text AS output_files,
       last_error, error_details::text AS error_details,
       (job_result ->> 'progress')::numeric AS progress,
       created_at, scheduled_at, started_at, completed_at, dead_letter_at, updated_at,
       extract(epoch FROM actual_duration)::float8 AS duration_seconds,
       created_at::text AS cursor_time
  FROM job_queue;
