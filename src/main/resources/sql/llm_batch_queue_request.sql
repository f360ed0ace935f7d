-- A job's request joins the batch lane. A request already in an open batch and not yet answered stays
-- as it is (a job retried by hand while its batch runs waits for that batch); any other earlier row of
-- the job is replaced.
INSERT INTO llm_batch_requests (job_id, provider, model, endpoint, body, bytes)
VALUES (:jobId, :provider, :model, :endpoint, :body, :bytes)
ON CONFLICT (job_id) DO UPDATE
   SET provider      = EXCLUDED.provider,
       model         = EXCLUDED.model,
       endpoint      = EXCLUDED.endpoint,
       body          = EXCLUDED.body,
       bytes         = EXCLUDED.bytes,
       batch_id      = NULL,
       answer_status = NULL,
       answer        = NULL,
       answer_error  = NULL,
       answered_at   = NULL,
       taken_at      = NULL,
       created_at    = now()
 WHERE llm_batch_requests.batch_id IS NULL
    OR llm_batch_requests.answered_at IS NOT NULL
