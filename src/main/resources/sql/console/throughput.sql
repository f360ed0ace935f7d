-- The console's last hour: jobs finished per five minutes, completed and failed, from the table.
SELECT date_bin(interval '5 minutes', completed_at, now() - interval '60 minutes') AS bucket,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed
  FROM job_queue
 WHERE status IN ('completed', 'failed') AND completed_at > now() - interval '60 minutes'
 GROUP BY 1
 ORDER BY 1
