-- Follow one document end to end (issue 31).
--
-- traceparent: the W3C trace context a job was queued in ("00-<trace id>-<parent span id>-<flags>"), so
-- that the run of a job, minutes later on some worker, continues the trace of the request that queued
-- it. The API sets it from the request's trace; a producer inserting by SQL may set it (a value that is
-- not a version-00 traceparent is ignored); a job queued without one gets its first run's, written
-- with its retry, so all the attempts of a job are one trace. Read only when tracing is on.
ALTER TABLE job_queue ADD COLUMN traceparent text;
ALTER TABLE job_queue_history ADD COLUMN traceparent text;

-- enqueue_job_v3 takes it as a last, optional parameter (every existing call means the same). The
-- function is made again rather than overloaded: two versions would make a call without the new
-- parameter ambiguous.
DROP FUNCTION enqueue_job_v3(text, text, jsonb, text, integer, timestamptz, text, integer, text, uuid[], text);

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
    p_idempotency_key text DEFAULT NULL,
    p_traceparent     text DEFAULT NULL)
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
                                max_retries, job_group, depends_on, idempotency_key, traceparent)
    VALUES (enqueue_job_v3.job_type, p_job_lane, job_name, job_payload, COALESCE(job_category, 'standard'),
            COALESCE(priority, 5), due, COALESCE(p_max_retries, 3), p_job_group, p_depends_on, p_idempotency_key,
            CASE WHEN p_traceparent ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' THEN p_traceparent END)
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
