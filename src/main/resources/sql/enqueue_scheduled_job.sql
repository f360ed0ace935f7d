-- One tick of a schedule (job-schedules route): its job, unless that tick or a later one is done, or
-- the tick is not due yet by the database's clock (early: the worker's clock is ahead).
-- Parameters by name from the body, a Schedules.Tick (prepareStatementStrategy: #namedParameters).
SELECT job_id, created, last_tick, early
  FROM enqueue_scheduled_job(:#schedule, CAST(:#tick AS timestamptz), :#jobType, :#jobName,
                             CAST(:#payloadJson AS jsonb), :#category, CAST(:#priority AS integer),
                             CAST(:#lane AS text), CAST(:#maxRetries AS integer))
