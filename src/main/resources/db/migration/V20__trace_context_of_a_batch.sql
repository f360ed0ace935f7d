-- The trace context of a statement that queues many jobs at once (issue 31): POST /api/jobs/batch calls
-- enqueue_jobs_v3, whose element shape is seed 003's and has no place for it. The statement sets the
-- transaction-local setting caravan.traceparent first (sql/enqueue_jobs.sql), and this trigger gives it
-- to every job the transaction inserts without one of its own. A value that is not a version-00 W3C
-- traceparent is ignored, as the column's other writers do.
CREATE FUNCTION job_queue_traceparent_of_transaction() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    context text := current_setting('caravan.traceparent', true);
BEGIN
    IF NEW.traceparent IS NULL AND context ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' THEN
        NEW.traceparent := context;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER job_queue_traceparent_of_transaction
    BEFORE INSERT ON job_queue
    FOR EACH ROW
    EXECUTE FUNCTION job_queue_traceparent_of_transaction();
