-- What the provider said of a batch that is still open (or why it could not be asked: lastError, the
-- rest kept as they were); the lease ends and the next poll is planned.
UPDATE llm_batches
   SET state           = :state,
       output_file_id  = COALESCE(CAST(:outputFileId AS text), output_file_id),
       error_file_id   = COALESCE(CAST(:errorFileId AS text), error_file_id),
       completed_count = CASE WHEN CAST(:lastError AS text) IS NULL THEN :completed ELSE completed_count END,
       failed_count    = CASE WHEN CAST(:lastError AS text) IS NULL THEN :failed ELSE failed_count END,
       last_error      = CAST(:lastError AS text),
       followed_by     = NULL,
       follow_until    = NULL,
       next_poll_at    = now() + make_interval(secs => CAST(:pollSeconds AS double precision)),
       updated_at      = now()
 WHERE id = :batchId
   AND followed_by = :workerId
