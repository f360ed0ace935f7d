-- One job for its console page: every column, JSON as text, and the jobs waiting for it.
SELECT q.id, q.job_type, q.job_lane, q.job_name, q.status, q.priority, q.retry_count, q.max_retries, q.job_group,
       q.job_category, q.worker_id, q.patient_id, q.shell_file_id, q.idempotency_key,
       q.job_payload::text AS payload, q.job_result::text AS result, q.error_details::text AS error_details,
       q.last_error, array_to_json(q.depends_on)::text AS depends_on, array_to_json(q.output_files)::text AS output_files,
       q.created_at, q.scheduled_at, q.started_at, q.completed_at, q.dead_letter_at, q.updated_at, q.heartbeat_at,
       q.progress ->> 'percent' AS progress_percent, q.progress ->> 'message' AS progress_message,
       q.progress ->> 'processed_files' AS processed_files, q.progress ->> 'total_files' AS total_files,
       (SELECT json_agg(json_build_object('id', w.id, 'type', w.job_type, 'status', w.status) ORDER BY w.created_at)::text
          FROM job_queue w WHERE w.depends_on @> ARRAY[q.id]) AS dependents,
       (SELECT json_agg(json_build_object('id', d.id, 'type', d.job_type, 'status', d.status))::text
          FROM job_queue d WHERE d.id = ANY (q.depends_on)) AS dependencies,
       (SELECT json_agg(json_build_object('at', e.edited_at, 'by', e.edited_by, 'fields', e.fields,
                                          'previous_payload', e.previous_payload) ORDER BY e.edited_at)::text
          FROM job_payload_edits e WHERE e.job_id = q.id) AS payload_edits,
       llm_batch_of(q.id)::text AS llm_batch
  FROM job_queue q
 WHERE q.id = CAST(:#${variable.jobId} AS uuid)
