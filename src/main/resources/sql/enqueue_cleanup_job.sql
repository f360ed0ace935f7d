-- Enqueues the periodic audit_cleanup job unless one is already waiting or running, so a busy
-- table does not grow without bound even when nobody schedules retention by hand.
INSERT INTO job_queue (job_type, job_name, job_category, priority, job_payload)
SELECT 'audit_cleanup', 'scheduled retention of finished jobs', 'maintenance', 9,
       jsonb_build_object('retention_days', CAST(:#${properties:caravan.cleanup.retention-days} AS double precision),
                          'archive', CAST(:#${properties:caravan.cleanup.archive} AS boolean),
                          'scheduled_by', :#${bean:workerSettings.workerId})
 WHERE NOT EXISTS (SELECT 1
                     FROM job_queue
                    WHERE job_type = 'audit_cleanup'
                      AND status IN ('pending', 'processing'))
