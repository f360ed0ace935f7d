-- The queue by type, lane and status, and how long the oldest due pending job of each has waited:
-- the queue gauges. Read-only; one statement per caravan.metrics.queue-stats-interval-ms.
SELECT job_type,
       COALESCE(job_lane, 'none') AS job_lane,
       status,
       count(*) AS jobs,
       COALESCE(extract(epoch FROM now() - min(scheduled_at)
                FILTER (WHERE status = 'pending' AND scheduled_at <= now())), 0)::float8 AS oldest_due_seconds
  FROM job_queue
 GROUP BY job_type, job_lane, status
