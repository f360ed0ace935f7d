-- One tick of a schedule (job-schedules route): its job, unless that tick or a later one is done.
-- Parameters by name from the body, a Schedules.Tick (prepareStatementStrategy: #namedParameters).
SELECT job_id, created, last_tick
  FROM enqueue_scheduled_job(:#schedule, CAST(:#tick AS timestamptz), :#jobType, :#jobName,
                             CAST(:#payloadJson AS jsonb), :#category, CAST(:#priority AS integer),
                             CAST(:#lane AS text), CAST(:#maxRetries AS integer))
