-- GET /api/schedules: every schedule declared to this database, with its last job and that job's status.
SELECT s.name, s.cron, s.zone, s.job_type, s.catch_up, s.enabled, s.first_seen, s.declared_at, s.declared_by,
       s.last_tick, s.last_job_id, j.status AS last_job_status
  FROM job_schedules s
  LEFT JOIN job_queue j ON j.id = s.last_job_id
 ORDER BY s.name
