-- One job as the API shows it (GET /api/jobs/{id}); no row = 404. A job of the batch lane also says
-- where its request stands: waiting to be gathered, or in which batch (and its state).
SELECT a.*,
       (SELECT json_build_object('batch_id', b.id, 'provider', r.provider, 'model', r.model,
                                 'provider_batch_id', b.provider_batch_id, 'state', b.state,
                                 'waiting_since', r.created_at, 'answered', r.answered_at IS NOT NULL)::text
          FROM llm_batch_requests r LEFT JOIN llm_batches b ON b.id = r.batch_id
         WHERE r.job_id = a.id) AS llm_batch
  FROM job_queue_api a
 WHERE a.id = :#${variable.jobId}
