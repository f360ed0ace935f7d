-- GET /api/usage/jobs: the most expensive jobs of one day (by the day of their first model call).
SELECT s.job_id, q.job_type, q.status, s.calls, s.input_tokens, s.output_tokens, s.cost, s.providers, s.models
  FROM job_spend s
  JOIN job_queue q ON q.id = s.job_id
 WHERE s.day = CAST(:#${variable.usage.from} AS date)
 ORDER BY s.cost DESC, s.input_tokens + s.output_tokens DESC
 LIMIT CAST(:#${variable.usage.limit} AS integer)
