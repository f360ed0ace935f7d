-- GET /api/queues: jobs per type, lane and status, the oldest due pending job's age, dead letters.
SELECT job_type,
       job_lane,
       status,
       count(*) AS jobs,
       count(*) FILTER (WHERE dead_letter_at IS NOT NULL) AS dead_lettered,
       extract(epoch FROM now() - min(scheduled_at)
               FILTER (WHERE status = 'pending' AND scheduled_at <= now()))::float8 AS oldest_due_seconds
  FROM job_queue
 GROUP BY job_type, job_lane, status
 ORDER BY job_type, job_lane, status
