-- Submits one job through enqueue_job_v3 (validation, idempotency, backpressure), as POST /api/jobs.
-- Returns job_id, status and whether this call created it (false: same idempotency key as before).
SELECT job_id, status, created
  FROM enqueue_job_v3(
           job_type          => :#${variable.job.type},
           job_name          => :#${variable.job.name},
           job_payload       => CAST(:#${variable.job.payloadJson} AS jsonb),
           job_category      => CAST(:#${variable.job.category} AS text),
           priority          => CAST(:#${variable.job.priority} AS integer),
           p_scheduled_at    => CAST(:#${variable.job.scheduledAt} AS timestamptz),
           p_job_lane        => CAST(:#${variable.job.lane} AS text),
           p_max_retries     => CAST(:#${variable.job.maxRetries} AS integer),
           p_job_group       => CAST(:#${variable.job.group} AS text),
           p_depends_on      => CAST(:#${variable.job.dependsOn} AS uuid[]),
           p_idempotency_key => CAST(:#${variable.job.idempotencyKey} AS text))
