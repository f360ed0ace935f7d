-- One job as the API shows it (GET /api/jobs/{id}); no row = 404.
SELECT * FROM job_queue_api WHERE id = :#${variable.jobId}
