-- The console's job list: newest first, filtered (job_matches), after the previous page's last job
-- (keyset: created_at, id), one row more than the page to tell whether another follows.
-- Parameters by name from the body, a ConsoleFilter (prepareStatementStrategy: #namedParameters).
SELECT q.id, q.job_type, q.job_lane, q.job_name, q.status, q.retry_count, q.max_retries, q.job_group, q.worker_id,
       q.created_at, q.completed_at, q.dead_letter_at, q.error_details ->> 'code' AS error_code,
       q.progress ->> 'percent' AS progress_percent, q.progress ->> 'message' AS progress_message,
       q.progress ->> 'processed_files' AS processed_files, q.progress ->> 'total_files' AS total_files,
       q.retry_count + CASE WHEN q.started_at IS NOT NULL AND q.status IN ('processing', 'completed', 'failed')
                            THEN 1 ELSE 0 END AS attempts
  FROM job_queue q
 WHERE job_matches(q, CAST(:#json AS jsonb))
   AND (CAST(:#afterCreatedAt AS timestamptz) IS NULL
        OR (q.created_at, q.id) < (CAST(:#afterCreatedAt AS timestamptz), CAST(:#afterId AS uuid)))
 ORDER BY q.created_at DESC, q.id DESC
 LIMIT CAST(:#fetch AS integer)
