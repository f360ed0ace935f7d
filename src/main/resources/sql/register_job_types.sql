-- Registers the job types this worker has pipelines for, so producers may enqueue them.
INSERT INTO job_types (job_type, description, registered_by)
SELECT t, 'pipeline route direct:pipeline-' || t, :#${bean:workerSettings.workerId}
  FROM unnest(CAST(:#${bean:workerSettings.jobTypes} AS text[])) AS t
ON CONFLICT (job_type) DO NOTHING
