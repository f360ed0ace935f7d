-- Completes a batch of jobs in one statement: job_result, output_files, completed_at,
-- actual_duration; heartbeat cleared. Each row is fenced on its own claim (still 'processing', this
-- worker's id, its claim instant); the ids returned are the jobs completed, and a job missing from
-- them had lost its claim (reaped, cancelled, released) and was left untouched (locked for this
-- statement's instant, not changed). Rows are locked in id order (c's, which the lookups follow), the
-- order every many-row write of Caravan's uses, so two of them cannot deadlock (the heartbeat skips
-- locked rows instead), and FOR NO KEY UPDATE, the lock the UPDATE takes anyway: it lets the
-- foreign-key checks of rows pointing at a job (job_spend, llm_batch_requests: FOR KEY SHARE, in their
-- own order) pass instead of deadlocking with them. Plain :name parameters (NamedParameterJdbcTemplate,
-- CompletionBatcher).
-- Both parts are MATERIALIZED so that the rows are locked in c's order before the UPDATE touches any.
WITH c AS MATERIALIZED (
    SELECT *
      FROM unnest(CAST(:ids AS uuid[]),
                  CAST(:claimedAt AS timestamptz[]),
                  CAST(CAST(:results AS text[]) AS jsonb[]),
                  CAST(CAST(:files AS text[]) AS jsonb[])) AS c(id, started_at, result, files)
     ORDER BY id
), owned AS MATERIALIZED (
    -- One primary-key lookup per job of the batch, the claim checked on the row it locked. The
    -- lookup names nothing but the id on purpose: given status = 'processing' as well, the planner
    -- may read the jobs through job_queue_heartbeat_idx instead (every running job's entry, and every
    -- finished one's until VACUUM), and does whenever the table's statistics were taken while few jobs
    -- ran (an ANALYZE before a burst): at 1,000 jobs running, a batch of 45 cost 25 ms that way (45 x
    -- 1,000 rows compared) instead of well under one. OFFSET 0 keeps the subquery a lookup.
    SELECT c.id, c.result, c.files
      FROM c
     CROSS JOIN LATERAL (SELECT j.status, j.worker_id, j.started_at
                           FROM job_queue j
                          WHERE j.id = c.id
                         OFFSET 0
                            FOR NO KEY UPDATE) j
     WHERE j.status = 'processing'
       AND j.worker_id = :workerId
       AND j.started_at = c.started_at
)
UPDATE job_queue j
   SET status          = 'completed',
       job_result      = owned.result,
       output_files    = CASE WHEN jsonb_array_length(owned.files) = 0 THEN NULL
                              ELSE ARRAY(SELECT jsonb_array_elements_text(owned.files)) END,
       completed_at    = now(),
       actual_duration = now() - j.started_at,
       heartbeat_at    = NULL,
       updated_at      = now()
  FROM owned
 WHERE j.id = owned.id
RETURNING j.id
