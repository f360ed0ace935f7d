-- The next batch to look at, taken for the lease by this worker (one worker follows a batch at a
-- time): an open batch due for a poll whose lease, if any, has run out. A 'gathering' batch found here
-- lost its gatherer.
UPDATE llm_batches b
   SET followed_by  = :workerId,
       follow_until = now() + make_interval(secs => CAST(:leaseSeconds AS double precision)),
       updated_at   = now()
 WHERE b.id = (SELECT id
                 FROM llm_batches
                WHERE state NOT IN ('applied', 'abandoned')
                  AND next_poll_at <= now()
                  AND (follow_until IS NULL OR follow_until < now())
                ORDER BY next_poll_at
                LIMIT 1
                  FOR UPDATE SKIP LOCKED)
RETURNING b.id, b.provider, b.state, b.provider_batch_id, b.output_file_id, b.error_file_id, b.request_count
