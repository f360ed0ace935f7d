-- Removes one batch of finished jobs (completed, failed, cancelled) older than the retention period,
-- moving them into job_queue_history when :archive is true and deleting them otherwise; returns how
-- many it removed. A finished job that a waiting job still depends on is kept, so the dependent's
-- claim still sees how it ended. Run by the audit_cleanup pipeline with plain :name parameters
-- (NamedParameterJdbcTemplate), batch after batch until a batch comes back short.
WITH doomed AS (
    SELECT j.id
      FROM job_queue j
     WHERE j.status IN ('completed', 'failed', 'cancelled')
       AND j.completed_at < now() - make_interval(secs => CAST(:retentionSeconds AS double precision))
       AND NOT EXISTS (SELECT 1
                         FROM job_queue w
                        WHERE w.depends_on @> ARRAY[j.id]
                          AND w.status IN ('pending', 'processing'))
     LIMIT CAST(:batchSize AS integer)
       FOR UPDATE SKIP LOCKED
),
moved AS (
    DELETE FROM job_queue j
     USING doomed
     WHERE j.id = doomed.id
    RETURNING j.*
),
archived AS (
    -- by name, not by position: a column added to both tables later lands where it belongs
    INSERT INTO job_queue_history
    SELECT (jsonb_populate_record(NULL::job_queue_history, to_jsonb(moved) || jsonb_build_object('archived_at', now()))).*
      FROM moved
     WHERE CAST(:archive AS boolean)
    RETURNING 1
)
SELECT count(*) FROM moved
