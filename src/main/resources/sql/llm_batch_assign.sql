-- Puts the oldest waiting requests of one group in a batch: at most maxRequests, and no more bytes than
-- maxBytes in all (the provider's limits per batch), skipping rows another gatherer holds. Returns the
-- requests taken; run in the transaction that created the batch.
WITH locked AS (
    SELECT r.job_id, r.bytes, r.created_at
      FROM llm_batch_requests r
      JOIN job_queue j ON j.id = r.job_id AND j.status = 'deferred'
     WHERE r.batch_id IS NULL
       AND r.provider = :provider
       AND r.model = :model
       AND r.endpoint = :endpoint
     ORDER BY r.created_at, r.job_id
     LIMIT :maxRequests
       FOR UPDATE OF r SKIP LOCKED
), picked AS (
    SELECT job_id, sum(bytes) OVER (ORDER BY created_at, job_id) AS running
      FROM locked
)
UPDATE llm_batch_requests r
   SET batch_id = :batchId
  FROM picked
 WHERE r.job_id = picked.job_id
   AND picked.running <= :maxBytes
RETURNING r.bytes
