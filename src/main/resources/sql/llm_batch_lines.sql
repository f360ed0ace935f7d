-- A batch's requests, to be written as its input file (read with a cursor).
SELECT job_id, body
  FROM llm_batch_requests
 WHERE batch_id = :batchId
 ORDER BY job_id
