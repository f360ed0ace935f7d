-- Enqueues one job per uploaded document (or one for the batch) through enqueue_job_v3, all in one
-- statement: either every job is created or none is. Plain :name parameters (NamedParameterJdbcTemplate).
-- traceparent: the request's trace, which the jobs continue (or null).
SELECT e.job_id::text
  FROM unnest(CAST(:names AS text[]), CAST(:payloads AS text[])) WITH ORDINALITY AS d(name, payload, n)
 CROSS JOIN LATERAL enqueue_job_v3(
           job_type    => CAST(:type AS text),
           job_name    => d.name,
           job_payload => CAST(d.payload AS jsonb),
           p_job_lane  => CAST(:lane AS text),
           p_job_group => CAST(:group AS text),
           p_traceparent => CAST(:traceparent AS text)) AS e
 ORDER BY d.n
