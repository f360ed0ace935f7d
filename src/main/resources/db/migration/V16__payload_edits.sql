-- Edit and retry (issue 32): an operator corrects a failed job's payload and retries it. The payload
-- it had is kept here, with who changed it, when, and which top-level fields; the job's own
-- error_details.actions records the edit too ("edit payload: a, b").
CREATE TABLE job_payload_edits (
    id               bigserial PRIMARY KEY,
    job_id           uuid NOT NULL,
    edited_at        timestamptz NOT NULL DEFAULT now(),
    edited_by        text NOT NULL,
    fields           text[] NOT NULL,
    previous_payload jsonb NOT NULL
);
CREATE INDEX job_payload_edits_job_idx ON job_payload_edits (job_id, edited_at);

-- A failed (or dead-lettered) job's payload is corrected with p_changes, a merge patch of its top-level
-- fields (RFC 7386 at the top level: a field given replaces the old one, a field given as null is
-- removed, a field left out is kept), and the job goes back to pending with a fresh set of attempts
-- (retry_failed_jobs). Nothing happens unless the job has failed; no changes (NULL), or changes that
-- change nothing, make a plain retry.
CREATE FUNCTION retry_job_with_payload(p_id uuid, p_changes jsonb, p_actor text) RETURNS TABLE (id uuid, status text)
    LANGUAGE plpgsql AS
$$
DECLARE
    old_    jsonb;
    new_    jsonb;
    fields_ text[];
BEGIN
    SELECT q.job_payload INTO old_ FROM job_queue q WHERE q.id = p_id AND q.status = 'failed' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT (old_ - coalesce(array_agg(e.key) FILTER (WHERE jsonb_typeof(e.value) = 'null'), '{}'))
           || coalesce(jsonb_object_agg(e.key, e.value) FILTER (WHERE jsonb_typeof(e.value) <> 'null'), '{}'),
           coalesce(array_agg(e.key ORDER BY e.key) FILTER (WHERE (old_ -> e.key) IS DISTINCT FROM
                        CASE WHEN jsonb_typeof(e.value) = 'null' THEN NULL ELSE e.value END), '{}')
      INTO new_, fields_
      FROM jsonb_each(p_changes) e;
    IF cardinality(fields_) > 0 THEN
        INSERT INTO job_payload_edits (job_id, edited_by, fields, previous_payload)
        VALUES (p_id, p_actor, fields_, old_);
        UPDATE job_queue q
           SET job_payload   = new_,
               error_details = job_action(q.error_details, 'edit payload: ' || array_to_string(fields_, ', '), p_actor)
         WHERE q.id = p_id;
    END IF;
    RETURN QUERY SELECT r.id, r.status FROM retry_failed_jobs(ARRAY[p_id], p_actor) r;
END
$$;
