-- The batch lane's gauges: open batches, and requests waiting to be gathered or in an open batch.
SELECT (SELECT count(*) FROM llm_batches WHERE state NOT IN ('applied', 'abandoned'))                    AS open_batches,
       (SELECT count(*) FROM llm_batch_requests WHERE batch_id IS NULL AND answered_at IS NULL)         AS waiting_requests,
       (SELECT count(*) FROM llm_batch_requests r JOIN llm_batches b ON b.id = r.batch_id
         WHERE b.state NOT IN ('applied', 'abandoned') AND r.answered_at IS NULL)                        AS batched_requests
