-- One line of a batch's output or error file, as the answer of its request: the first line for a
-- custom_id counts (a duplicate changes nothing), and only a request of this batch takes it.
UPDATE llm_batch_requests
   SET answer_status = :status,
       answer        = :answer,
       answer_error  = CAST(:error AS jsonb),
       answered_at   = now()
 WHERE job_id = :jobId
   AND batch_id = :batchId
   AND answered_at IS NULL
