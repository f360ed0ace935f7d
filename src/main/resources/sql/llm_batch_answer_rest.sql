-- The requests of an ended batch that no line answered get Caravan's error: why there is no answer
-- (the batch expired, failed, was cancelled, or left the line out).
UPDATE llm_batch_requests
   SET answer_error = CAST(:error AS jsonb),
       answered_at  = now()
 WHERE batch_id = :batchId
   AND answered_at IS NULL
