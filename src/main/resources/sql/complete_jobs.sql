-- Completes a batch of jobs in one statement: job_result, output_files, completed_at,
-- actual_duration; heartbeat cleared. Each row is fenced on its own claim (still 'processing', this
-- worker's id, its claim instant); the ids returned are the jobs completed, and a job missing from
-- them had lost its claim (reaped, cancelled, released) and was left untouched. Plain :name
-- parameters (NamedParameterJdbcTemplate, CompletionBatcher).
UPDATE job_queue j
   SET status          = 'completed',
       job_result      = c.result,
       output_files    = CASE WHEN jsonb_array_length(c.files) = 0 THEN NULL
                              ELSE ARRAY(SELECT jsonb_array_elements_text(c.files)) END,
       completed_at    = now(),
       actual_duration = now() - j.started_at,
       heartbeat_at    = NULL,
       updated_at      = now()
  FROM unnest(CAST(:ids AS uuid[]),
              CAST(:claimedAt AS timestamptz[]),
              CAST(CAST(:results AS text[]) AS jsonb[]),
              CAST(CAST(:files AS text[]) AS jsonb[])) AS c(id, started_at, result, files)
 WHERE j.id = c.id
   AND j.status = 'processing'
   AND j.worker_id = :workerId
   AND j.started_at = c.started_at
RETURNING j.id
