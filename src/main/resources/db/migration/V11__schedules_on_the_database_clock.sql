-- Schedules judged on the database's clock (issue 37): a worker whose clock ran ahead enqueued ticks
-- early and moved last_tick past ticks the other workers had not reached yet, so those were never
-- enqueued. A tick later than the database's now() (with a second's slack) is refused as early:
-- nothing is written, and the caller tries it again at its next check.
DROP FUNCTION enqueue_scheduled_job(text, timestamptz, text, text, jsonb, text, integer, text, integer);

CREATE FUNCTION enqueue_scheduled_job(
    p_schedule    text,
    p_tick        timestamptz,
    p_job_type    text,
    p_job_name    text,
    p_job_payload jsonb,
    p_category    text,
    p_priority    integer,
    p_job_lane    text,
    p_max_retries integer)
RETURNS TABLE (job_id uuid, created boolean, last_tick timestamptz, early boolean)
LANGUAGE plpgsql AS
$$
#variable_conflict use_column
DECLARE
    new_id uuid;
BEGIN
    -- the database has one clock: a tick is due when it is due here, whatever the caller's clock says
    IF p_tick > now() + interval '1 second' THEN
        RETURN QUERY SELECT NULL::uuid, false, s.last_tick, true FROM job_schedules s WHERE s.name = p_schedule;
        RETURN;
    END IF;
    UPDATE job_schedules s SET last_tick = p_tick
     WHERE s.name = p_schedule AND (s.last_tick IS NULL OR s.last_tick < p_tick);
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::uuid, false, s.last_tick, false FROM job_schedules s WHERE s.name = p_schedule;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'schedule % is not declared in job_schedules (a worker declares its schedules when it starts)',
                p_schedule USING ERRCODE = 'no_data_found';
        END IF;
        RETURN;
    END IF;
    SELECT e.job_id INTO new_id
      FROM enqueue_job_v3(job_type => p_job_type, job_name => p_job_name, job_payload => p_job_payload,
                          job_category => p_category, priority => p_priority, p_scheduled_at => p_tick,
                          p_job_lane => p_job_lane, p_max_retries => p_max_retries,
                          p_idempotency_key => 'schedule:' || p_schedule || '@'
                                               || to_char(p_tick AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) AS e;
    UPDATE job_schedules s SET last_job_id = new_id WHERE s.name = p_schedule;
    RETURN QUERY SELECT new_id, true, p_tick, false;
END
$$;
