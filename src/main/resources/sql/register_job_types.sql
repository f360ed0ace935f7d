-- Registers every job type this process has a pipeline route for (whether or not WORKER_JOB_TYPES
-- lets it claim them), so producers may enqueue them.
INSERT INTO job_types (job_type, description, registered_by)
SELECT t, 'pipeline route direct:pipeline-' || t, :#${bean:workerSettings.workerId}
  FROM unnest(CAST(:#${bean:workerSettings.pipelineTypes} AS text[])) AS t
ON CONFLICT (job_type) DO NOTHING
