-- A worker declares one of its schedules at start-up (Schedules). first_seen stays as it was: ticks
-- before a schedule was first declared are never caught up. Returns its last tick.
INSERT INTO job_schedules AS s (name, cron, zone, job_type, catch_up, enabled, declared_by)
VALUES (:name, :cron, :zone, :jobType, :catchUp, :enabled, :workerId)
ON CONFLICT (name) DO UPDATE
   SET cron = excluded.cron, zone = excluded.zone, job_type = excluded.job_type, catch_up = excluded.catch_up,
       enabled = excluded.enabled, declared_at = now(), declared_by = excluded.declared_by
RETURNING s.last_tick, s.first_seen
