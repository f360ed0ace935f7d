-- The next group of waiting requests (one provider, model and endpoint: a batch holds one model) that
-- is ready to go: enough requests for a full batch, or its oldest has waited the gather wait. Only
-- requests of jobs still deferred count (a cancelled job's request is never sent).
SELECT r.provider, r.model, r.endpoint
  FROM llm_batch_requests r
  JOIN job_queue j ON j.id = r.job_id AND j.status = 'deferred'
 WHERE r.batch_id IS NULL
 GROUP BY r.provider, r.model, r.endpoint
HAVING count(*) >= :maxRequests
    OR min(r.created_at) <= now() - make_interval(secs => CAST(:waitSeconds AS double precision))
 ORDER BY min(r.created_at)
 LIMIT 1
