-- Wakes idle workers as soon as jobs are inserted (whoever inserts them): one NOTIFY per statement
-- on channel caravan_job_queue, delivered when the inserting transaction commits. Workers still
-- poll as a backstop, so a missed notification costs latency, never a job.
CREATE FUNCTION job_queue_notify() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('caravan_job_queue', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER job_queue_notify_insert
    AFTER INSERT ON job_queue
    FOR EACH STATEMENT EXECUTE FUNCTION job_queue_notify();
