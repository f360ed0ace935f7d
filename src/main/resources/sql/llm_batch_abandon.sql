-- A batch that never reached the provider (its gatherer died, or the upload could not be made for a
-- reason that is not the requests'): its requests go back to be gathered again.
WITH released AS (
    UPDATE llm_batch_requests
       SET batch_id = NULL
     WHERE batch_id = :batchId
       AND answered_at IS NULL
    RETURNING job_id
)
UPDATE llm_batches
   SET state        = 'abandoned',
       last_error   = :lastError,
       followed_by  = NULL,
       follow_until = NULL,
       finished_at  = now(),
       updated_at   = now()
 WHERE id = :batchId
