-- How many workers the queue is worth now (issue 33): what an autoscaler needs, in one query.
--
--   SELECT caravan_workers_wanted(50)                       -- workers of 50 slots, every job type
--   SELECT caravan_workers_wanted(50, '{ai_processing}', '{ai_queue_simple}')
--
-- = ceil((jobs that could run now + jobs running) / concurrency): pending jobs that are due and whose
-- depends_on jobs have all completed, plus the processing ones (they hold slots). Work that more
-- workers would not speed up does not count: a job snoozed for a spent budget, an open circuit or a
-- provider's rate limit, a retry waiting out its backoff and a job scheduled for later are not due.
-- 0 when there is nothing to do (KEDA's activation: scale to zero, or to its minimum). Pending jobs
-- are counted up to p_cap (100,000 by default), so the query stays cheap on a huge backlog.
-- KEDA's postgresql trigger: query "SELECT caravan_workers_wanted(50)", targetQueryValue "1"
-- (ops/k8s/scaledobject.yaml); Prometheus: the gauge caravan_workers_wanted.
CREATE FUNCTION caravan_workers_wanted(p_concurrency integer, p_job_types text[] DEFAULT NULL,
                                       p_job_lanes text[] DEFAULT NULL, p_cap integer DEFAULT 100000)
    RETURNS integer
    LANGUAGE sql STABLE AS
$$
SELECT CASE WHEN p_concurrency IS NULL OR p_concurrency < 1 THEN NULL
            ELSE ceil(((SELECT count(*)
                          FROM (SELECT 1
                                  FROM job_queue j
                                 WHERE j.status = 'pending'
                                   AND j.scheduled_at <= now()
                                   AND (p_job_types IS NULL OR j.job_type = ANY (p_job_types))
                                   AND (p_job_lanes IS NULL OR j.job_lane IS NULL OR j.job_lane = ANY (p_job_lanes))
                                   AND (j.depends_on IS NULL
                                        OR NOT EXISTS (SELECT 1 FROM job_queue d
                                                        WHERE d.id = ANY (j.depends_on) AND d.status <> 'completed'))
                                 LIMIT GREATEST(p_cap, 0)) AS due)
                      + (SELECT count(*)
                           FROM job_queue j
                          WHERE j.status = 'processing'
                            AND (p_job_types IS NULL OR j.job_type = ANY (p_job_types))
                            AND (p_job_lanes IS NULL OR j.job_lane IS NULL OR j.job_lane = ANY (p_job_lanes)))
                     )::numeric / p_concurrency)::integer
       END
$$;
