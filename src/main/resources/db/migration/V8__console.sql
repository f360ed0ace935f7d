-- The operations console (/console): keyset pages over every job, newest first; an operator's filter
-- in one place; actions recorded on the job; workers paused and resumed from another process.

-- Newest first, page after page: without it a list over millions of rows sorts them all.
CREATE INDEX job_queue_created_idx ON job_queue (created_at, id);
-- Jobs by their last error code (the console's filter); small: only jobs that failed once.
CREATE INDEX job_queue_error_code_idx ON job_queue ((error_details ->> 'code')) WHERE error_details IS NOT NULL;

-- Whether a job matches the console's filter, a JSON object of optional fields (status, type, lane,
-- group, patient_id, shell_file_id, dead_lettered, error_code, created_from, created_to, name: a part
-- of job_name). A SQL function, so the planner inlines it and uses the indexes.
CREATE FUNCTION job_matches(q job_queue, f jsonb) RETURNS boolean
LANGUAGE sql STABLE AS
$$
SELECT (f ->> 'status' IS NULL OR q.status = f ->> 'status')
   AND (f ->> 'type' IS NULL OR q.job_type = f ->> 'type')
   AND (f ->> 'lane' IS NULL OR q.job_lane = f ->> 'lane')
   AND (f ->> 'group' IS NULL OR q.job_group = f ->> 'group')
   AND (f ->> 'patient_id' IS NULL OR q.patient_id = (f ->> 'patient_id')::uuid)
   AND (f ->> 'shell_file_id' IS NULL OR q.shell_file_id = (f ->> 'shell_file_id')::uuid)
   AND (f ->> 'dead_lettered' IS NULL OR (q.dead_letter_at IS NOT NULL) = (f ->> 'dead_lettered')::boolean)
   AND (f ->> 'error_code' IS NULL OR q.error_details ->> 'code' = f ->> 'error_code')
   AND (f ->> 'created_from' IS NULL OR q.created_at >= (f ->> 'created_from')::timestamptz)
   AND (f ->> 'created_to' IS NULL OR q.created_at < (f ->> 'created_to')::timestamptz)
   AND (f ->> 'name' IS NULL OR q.job_name ILIKE '%' || (f ->> 'name') || '%')
$$;

-- error_details with an operator's action appended to its "actions" (the last 20): what, who, when.
CREATE FUNCTION job_action(details jsonb, action text, actor text) RETURNS jsonb
LANGUAGE sql STABLE AS
$$
SELECT COALESCE(details, '{}'::jsonb) || jsonb_build_object('actions', jsonb_path_query_array(
           COALESCE(details -> 'actions', '[]'::jsonb)
           || jsonb_build_array(jsonb_build_object('action', action, 'by', actor, 'at', now())),
           '$[last - 19 to last]'))
$$;

-- Failed (or dead-lettered) jobs back to pending with a fresh set of attempts, their error history
-- kept and the retry recorded: the API's retry of one job and the console's retry of all matching.
CREATE FUNCTION retry_failed_jobs(p_ids uuid[], p_actor text) RETURNS TABLE (id uuid, status text)
LANGUAGE sql AS
$$
UPDATE job_queue q
   SET status          = 'pending',
       scheduled_at    = now(),
       retry_count     = 0,
       dead_letter_at  = NULL,
       worker_id       = NULL,
       started_at      = NULL,
       completed_at    = NULL,
       actual_duration = NULL,
       error_details   = job_action(q.error_details, 'retry', p_actor),
       updated_at      = now()
 WHERE q.id = ANY (p_ids)
   AND q.status = 'failed'
RETURNING q.id, q.status
$$;

-- A pause or resume asked of a worker from elsewhere (the console); the worker applies it at its next
-- heartbeat and clears it.
ALTER TABLE caravan_workers ADD COLUMN requested text CHECK (requested IN ('pause', 'resume'));
