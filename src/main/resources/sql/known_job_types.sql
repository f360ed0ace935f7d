-- Every job type some worker has registered (Schedules: a schedule's job type must be one).
SELECT job_type FROM job_types
