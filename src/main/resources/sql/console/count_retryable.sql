-- How many failed jobs match the console's filter: the count "retry all matching" asks to confirm.
SELECT count(*) AS jobs FROM job_queue q WHERE q.status = 'failed' AND job_matches(q, CAST(:#json AS jsonb))
