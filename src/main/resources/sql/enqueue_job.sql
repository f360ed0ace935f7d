-- Submits one job through enqueue_job_v3 (validation, idempotency, backpressure), as POST /api/jobs.
-- Returns job_id, status and whether this call created it (false: same idempotency key as before).
-- traceparent: the trace the job continues (the request's, or the run that queued a follow-up), or null.
-- Parameters by name from the body, a JobSubmission (prepareStatementStrategy: #namedParameters).
SELECT job_id, status, created
  FROM enqueue_job_v3(
           job_type          => :#type,
           job_name          => :#name,
           job_payload       => CAST(:#payloadJson AS jsonb),
           job_category      => CAST(:#category AS text),
           priority          => CAST(:#priority AS integer),
           p_scheduled_at    => CAST(:#scheduledAt AS timestamptz),
           p_job_lane        => CAST(:#lane AS text),
           p_max_retries     => CAST(:#maxRetries AS integer),
           p_job_group       => CAST(:#group AS text),
           p_depends_on      => CAST(:#dependsOn AS uuid[]),
           p_idempotency_key => CAST(:#idempotencyKey AS text),
           p_traceparent     => CAST(:#traceparent AS text))
