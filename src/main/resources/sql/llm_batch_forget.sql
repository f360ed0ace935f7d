-- Requests of finished jobs (completed, failed, cancelled) are no longer needed once they are out of
-- any open batch: deleted, a few thousand a round (a deleted job takes its request with it).
DELETE FROM llm_batch_requests
 WHERE job_id IN (SELECT r.job_id
                    FROM llm_batch_requests r
                    JOIN job_queue j ON j.id = r.job_id AND j.status IN ('completed', 'failed', 'cancelled')
                   WHERE r.batch_id IS NULL OR r.answered_at IS NOT NULL
                   LIMIT 5000)
