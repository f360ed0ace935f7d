-- What the provider said of a batch that is still open; the lease ends and the next poll is planned.
UPDATE llm_batches
   SET state           = :state,
       output_file_id  = :outputFileId,
       error_file_id   = :errorFileId,
       completed_count = :completed,
       failed_count    = :failed,
       last_error      = :lastError,
       followed_by     = NULL,
       follow_until    = NULL,
       next_poll_at    = now() + make_interval(secs => CAST(:pollSeconds AS double precision)),
       updated_at      = now()
 WHERE id = :batchId
   AND followed_by = :workerId
