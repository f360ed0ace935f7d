-- Fair claiming between job groups (CLAIM_FAIRNESS=job_group, sql/claim_jobs_fair.sql): the groups
-- with pending work are found by skipping through this index (one probe per group), and each group's
-- next jobs are read from it in claim order.
CREATE INDEX job_queue_fair_idx ON job_queue (job_group, priority, scheduled_at, created_at) WHERE status = 'pending';
