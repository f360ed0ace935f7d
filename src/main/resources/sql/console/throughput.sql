-- The console's last hour: jobs finished per five minutes, completed and failed, from the table. Each
-- five minutes' place (slot 0 the oldest, 11 the newest) is counted here, against this statement's own
-- now(), not the worker's clock: the two are never the same instant, and a bar placed by the other one
-- lands a slot early.
SELECT least(11, floor(extract(epoch FROM completed_at - (now() - interval '60 minutes')) / 300))::integer AS slot,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed
  FROM job_queue
 WHERE status IN ('completed', 'failed') AND completed_at > now() - interval '60 minutes'
 GROUP BY 1
 ORDER BY 1
