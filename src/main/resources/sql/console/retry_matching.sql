-- "Retry all matching" on the console: the failed jobs the filter matches (at most :#limit, the count
-- the operator confirmed), as retry_job.sql retries one (retry_failed_jobs). Returns the jobs retried.
SELECT id
  FROM retry_failed_jobs(ARRAY(SELECT m.id FROM job_queue m
                                WHERE m.status = 'failed' AND job_matches(m, CAST(:#json AS jsonb))
                                ORDER BY m.created_at LIMIT CAST(:#limit AS integer)),
                         CAST(:#actor AS text))
