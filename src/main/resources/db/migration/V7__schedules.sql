-- Recurring jobs. Each schedule an operator declares (a *.schedules.yaml file, see README) has a row
-- here, written by every worker that declares it at start-up. last_tick is the newest tick a job was
-- enqueued for: enqueue_scheduled_job moves it forward under the row's lock, so however many workers
-- reach one tick, one of them enqueues its job and the others see it done. The job's idempotency key
-- (schedule:<name>@<tick>) guards the same once more.
CREATE TABLE job_schedules (
    name         text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,99}$'),
    cron         text NOT NULL,
    zone         text NOT NULL,
    job_type     text NOT NULL,
    catch_up     text NOT NULL CHECK (catch_up IN ('none', 'last')),
    enabled      boolean NOT NULL,
    first_seen   timestamptz NOT NULL DEFAULT now(),
    declared_at  timestamptz NOT NULL DEFAULT now(),
    declared_by  text,
    last_tick    timestamptz,
    last_job_id  uuid
);

-- Enqueues the job of one tick of a schedule unless that tick, or a later one, is done already.
-- Returns the job (NULL when it was done already), whether this call enqueued it, and the schedule's
-- last tick after the call.
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
RETURNS TABLE (job_id uuid, created boolean, last_tick timestamptz)
LANGUAGE plpgsql AS
$$
#variable_conflict use_column
DECLARE
    new_id uuid;
BEGIN
    UPDATE job_schedules s SET last_tick = p_tick
     WHERE s.name = p_schedule AND (s.last_tick IS NULL OR s.last_tick < p_tick);
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::uuid, false, s.last_tick FROM job_schedules s WHERE s.name = p_schedule;
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
    RETURN QUERY SELECT new_id, true, p_tick;
END
$$;
