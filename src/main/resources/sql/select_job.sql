-- One job as the API shows it (GET /api/jobs/{id}); no row = 404. A job of the batch lane also says
-- where its request stands (llm_batch_of, V21).
SELECT a.*, llm_batch_of(a.id)::text AS llm_batch
  FROM job_queue_api a
 WHERE a.id = :#${variable.jobId}
