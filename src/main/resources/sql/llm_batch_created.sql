-- The provider took the batch: its ids and state; the gatherer's lease ends and followers poll it. Only
-- while this worker still holds it, gathering: a gatherer slower than its lease, whose batch another
-- worker has abandoned meanwhile, does not bring it back.
UPDATE llm_batches
   SET provider_batch_id = :providerBatchId,
       input_file_id     = :inputFileId,
       state             = :state,
       followed_by       = NULL,
       follow_until      = NULL,
       next_poll_at      = now() + make_interval(secs => CAST(:pollSeconds AS double precision)),
       updated_at        = now()
 WHERE id = :batchId
   AND state = 'gathering'
   AND followed_by = :workerId
