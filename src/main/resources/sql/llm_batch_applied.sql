-- A batch whose every request has its answer and whose jobs are back in the queue: done with.
UPDATE llm_batches
   SET state           = 'applied',
       completed_count = :completed,
       failed_count    = :failed,
       answered_count  = :answered,
       last_error      = :lastError,
       followed_by     = NULL,
       follow_until    = NULL,
       finished_at     = now(),
       updated_at      = now()
 WHERE id = :batchId
