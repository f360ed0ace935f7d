-- What a batch holds, once its requests are assigned.
UPDATE llm_batches
   SET request_count = :requests,
       request_bytes = :bytes,
       updated_at    = now()
 WHERE id = :batchId
