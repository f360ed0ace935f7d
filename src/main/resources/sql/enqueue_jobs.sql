-- Submits a batch of jobs through enqueue_jobs_v3 (validation, idempotency per job, backpressure), as
-- POST /api/jobs/batch: one statement for the whole batch, all or nothing.
-- Parameter by name from the body, a JobBatch (prepareStatementStrategy: #namedParameters): its jobs as
-- UTF-8 bytes (a bytea), made jsonb here, so that the worker never holds them as a string.
-- Returns, per job in the batch's order, its id and status and whether this call created it.
SELECT ord, job_id, status, created
  FROM enqueue_jobs_v3(CAST(convert_from(CAST(:#jobs AS bytea), 'UTF8') AS jsonb))
