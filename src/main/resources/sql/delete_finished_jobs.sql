-- Deletes one batch of finished jobs (completed, failed, cancelled) older than the retention period,
-- keeping those a waiting job still depends on. Used by audit_cleanup when archiving is off.
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
)
DELETE FROM job_queue j
 USING doomed
 WHERE j.id = doomed.id
