-- While a document runs (issue 32).
--
-- progress: what the job's pipeline last reported, written by its worker at a bounded rate (about once
-- a second, only when it changed): {"percent": 0-100, "message": "...", "processed_files": n,
-- "total_files": n, "at": "..."}. Kept when the job ends, so a failed job shows how far it got.
ALTER TABLE job_queue ADD COLUMN progress jsonb;
ALTER TABLE job_queue_history ADD COLUMN progress jsonb;

-- A running job that is cancelled (through the API, the console, or an UPDATE of its own) is stopped
-- by its worker: the worker LISTENs on caravan_job_cancel (its heartbeat answer is the backstop where
-- LISTEN is not available, behind a transaction-mode pooler). One notification per cancelled row,
-- sent when the cancelling transaction commits; the payload is the job's id.
CREATE FUNCTION job_queue_notify_cancel() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('caravan_job_cancel', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER job_queue_notify_cancel
    AFTER UPDATE OF status ON job_queue
    FOR EACH ROW
    WHEN (OLD.status = 'processing' AND NEW.status = 'cancelled')
    EXECUTE FUNCTION job_queue_notify_cancel();

-- The API's view shows the reported progress (a result's own "progress" still counts when none was).
CREATE OR REPLACE VIEW job_queue_api AS
SELECT id, job_type, job_lane, job_name, status, priority, retry_count, max_retries,
       retry_count + CASE WHEN started_at IS NOT NULL AND status IN ('processing', 'completed', 'failed')
                          THEN 1 ELSE 0 END AS attempts,
       job_group, worker_id, job_payload ->> 'correlation_id' AS correlation_id,
       array_to_json(depends_on)::text AS depends_on,
       job_result::text AS job_result, array_to_json(output_files)::text AS output_files,
       last_error, error_details::text AS error_details,
       COALESCE((progress ->> 'percent')::numeric, (job_result ->> 'progress')::numeric) AS progress,
       created_at, scheduled_at, started_at, completed_at, dead_letter_at, updated_at,
       extract(epoch FROM actual_duration)::float8 AS duration_seconds,
       created_at::text AS cursor_time,
       progress::text AS progress_details
  FROM job_queue;
