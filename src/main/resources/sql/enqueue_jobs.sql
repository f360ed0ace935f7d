-- Submits a batch of jobs through enqueue_jobs_v3 (validation, idempotency per job, backpressure), as
-- POST /api/jobs/batch: one statement for the whole batch, all or nothing.
-- Parameter by name from the body, a JobBatch (prepareStatementStrategy: #namedParameters).
-- Returns, per job in the batch's order, its id and status and whether this call created it.
SELECT ord, job_id, status, created
  FROM enqueue_jobs_v3(CAST(:#jobs AS jsonb))
