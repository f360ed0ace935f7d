-- Submits a batch of jobs through enqueue_jobs_v3 (validation, idempotency per job, backpressure), as
-- POST /api/jobs/batch: one statement for the whole batch, all or nothing.
-- Parameters by name from the body, a JobBatch (prepareStatementStrategy: #namedParameters): its jobs as
-- UTF-8 bytes (a bytea), made jsonb here, so that the worker never holds them as a string; and the trace
-- the jobs continue (traceparent, or null), set for this transaction only before enqueue_jobs_v3 runs
-- (the function's argument depends on it, so it is set first) and given to each new job by a trigger (V20).
-- Returns, per job in the batch's order, its id and status and whether this call created it.
SELECT q.ord, q.job_id, q.status, q.created
  FROM (SELECT set_config('caravan.traceparent', COALESCE(CAST(:#traceparent AS text), ''), true) AS context) AS t
 CROSS JOIN LATERAL enqueue_jobs_v3(CASE WHEN t.context IS NOT NULL
                                         THEN CAST(convert_from(CAST(:#jobs AS bytea), 'UTF8') AS jsonb) END) AS q
