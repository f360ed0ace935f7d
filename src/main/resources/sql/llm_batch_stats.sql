-- The batch lane's state at a glance (the llm-batches round's gate, and the gauges): open batches,
-- requests of deferred jobs waiting to be gathered, requests in an open batch, requests of finished
-- jobs left to forget.
SELECT (SELECT count(*) FROM llm_batches WHERE state NOT IN ('applied', 'abandoned'))                    AS open_batches,
       (SELECT count(*) FROM llm_batch_requests r JOIN job_queue j ON j.id = r.job_id AND j.status = 'deferred'
         WHERE r.batch_id IS NULL)                                                                       AS waiting_requests,
       (SELECT count(*) FROM llm_batch_requests r JOIN llm_batches b ON b.id = r.batch_id
         WHERE b.state NOT IN ('applied', 'abandoned') AND r.answered_at IS NULL)                        AS batched_requests,
       (SELECT count(*) FROM llm_batch_requests r JOIN job_queue j ON j.id = r.job_id
         WHERE j.status IN ('completed', 'failed', 'cancelled') AND (r.batch_id IS NULL OR r.answered_at IS NOT NULL))
                                                                                                          AS finished_requests
