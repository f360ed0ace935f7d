-- Many jobs in one call: enqueue_jobs_v3(jobs), the batch form of enqueue_job_v3 (POST /api/jobs/batch
-- calls it; SQL producers may too). jobs is a JSON array of objects with enqueue_job_v3's parameter
-- names: job_type, job_name, job_payload (required), job_category, priority, scheduled_at, job_lane,
-- max_retries, job_group, depends_on (array of job ids), idempotency_key (optional, as in
-- enqueue_job_v3). Returns one row per element, in order (ord from 1): the job, and whether this call
-- created it.
--
-- All or nothing. The jobs are written with one INSERT. If it is refused (an unknown type, a lane
-- rule, a bad payload id...), every job is tried alone, each in a savepoint that is rolled back, to
-- find all that are refused and why; the call then fails with SQLSTATE CV001 and, as DETAIL, a JSON
-- array of {ord, sqlstate, constraint, column, message}, and writes nothing. That costs time only on
-- a refused batch.
--
-- Idempotency per job: a key seen before gives back that job (created false); the same key twice in
-- one batch makes one job, given back for both. Backpressure per job type as enqueue_job_v3: a type
-- whose pending jobs plus this batch's would pass max_pending refuses the whole batch ('refuse',
-- SQLSTATE 53400 with the retry-after hint) or schedules the jobs beyond the room later ('delay').
CREATE FUNCTION enqueue_jobs_v3(jobs jsonb)
RETURNS TABLE (ord integer, job_id uuid, status text, scheduled_at timestamptz, created boolean)
LANGUAGE plpgsql AS
$$
#variable_conflict use_column
DECLARE
    n        integer;
    free     integer;
    ids      uuid[];
    lim      record;
    room     jsonb := '{}';
    failures jsonb := '[]';
    item     record;
BEGIN
    IF jobs IS NULL OR jsonb_typeof(jobs) <> 'array' THEN
        RAISE EXCEPTION 'jobs must be a JSON array' USING ERRCODE = 'invalid_parameter_value', COLUMN = 'jobs';
    END IF;
    n := jsonb_array_length(jobs);
    IF n = 0 THEN
        RETURN;
    END IF;
    ids := ARRAY(SELECT gen_random_uuid() FROM generate_series(1, n));

    -- enqueue_job_v3's own check, for every job at once
    SELECT COALESCE(jsonb_agg(jsonb_build_object('ord', e.ord, 'sqlstate', '23502', 'column', 'job_name',
               'message', 'job_name must not be empty or longer than 500 characters') ORDER BY e.ord), '[]')
      INTO failures
      FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(doc, ord)
     WHERE btrim(COALESCE(e.doc ->> 'job_name', '')) = '' OR length(e.doc ->> 'job_name') > 500;
    IF jsonb_array_length(failures) > 0 THEN
        RAISE EXCEPTION '% of % jobs refused; none was written', jsonb_array_length(failures), n
            USING ERRCODE = 'CV001', DETAIL = failures::text;
    END IF;

    -- backpressure: the room each limited type has left, taken by its jobs in batch order
    FOR lim IN
        SELECT l.job_type, l.max_pending, l.over_limit, l.delay, b.count
          FROM (SELECT e ->> 'job_type' AS job_type, count(*) AS count
                  FROM jsonb_array_elements(jobs) AS e GROUP BY 1) AS b
          JOIN job_type_limits l ON l.job_type = b.job_type
    LOOP
        SELECT lim.max_pending - count(*) INTO free
          FROM (SELECT 1 FROM job_queue q
                 WHERE q.status = 'pending' AND q.job_type = lim.job_type
                 LIMIT lim.max_pending) AS p;
        IF lim.count > free AND lim.over_limit = 'refuse' THEN
            RAISE EXCEPTION 'queue for job type % is full (room for % more, limit %; this batch has %)',
                lim.job_type, free, lim.max_pending, lim.count
                USING ERRCODE = 'configuration_limit_exceeded', COLUMN = 'job_type',
                      HINT = 'retry after ' || ceil(extract(epoch FROM lim.delay))::integer || ' seconds';
        END IF;
        room := room || jsonb_build_object(lim.job_type, jsonb_build_object('room', free, 'delay', lim.delay));
    END LOOP;

    BEGIN
        INSERT INTO job_queue AS q (id, job_type, job_lane, job_name, job_payload, job_category, priority,
                                    scheduled_at, max_retries, job_group, depends_on, idempotency_key)
        SELECT i.id, i.job_type, i.job_lane, i.job_name, i.job_payload, i.job_category, i.priority,
               CASE WHEN i.type_pos > (room -> i.job_type ->> 'room')::integer
                    THEN greatest(i.due, now() + (room -> i.job_type ->> 'delay')::interval)
                    ELSE i.due END,
               i.max_retries, i.job_group, i.depends_on, i.idempotency_key
          FROM (SELECT ids[e.ord] AS id, e.ord, x.*,
                       COALESCE(x.scheduled_at, now()) AS due,
                       row_number() OVER (PARTITION BY x.job_type ORDER BY e.ord) AS type_pos,
                       row_number() OVER (PARTITION BY x.idempotency_key ORDER BY e.ord) AS key_pos
                  FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(doc, ord),
                       LATERAL enqueue_jobs_item(e.doc) AS x) AS i
         WHERE i.idempotency_key IS NULL
            OR (i.key_pos = 1 AND NOT EXISTS (SELECT 1 FROM job_queue o WHERE o.idempotency_key = i.idempotency_key))
         ORDER BY i.ord
        ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
    EXCEPTION
        WHEN OTHERS THEN
            -- find every refused job, each alone, nothing kept
            FOR item IN SELECT e.ord, e.doc FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(doc, ord) LOOP
                DECLARE
                    st text; con text; col text; msg text;
                BEGIN
                    INSERT INTO job_queue (job_type, job_lane, job_name, job_payload, job_category, priority,
                                           scheduled_at, max_retries, job_group, depends_on, idempotency_key)
                    SELECT x.job_type, x.job_lane, x.job_name, x.job_payload, x.job_category, x.priority,
                           COALESCE(x.scheduled_at, now()), x.max_retries, x.job_group, x.depends_on, x.idempotency_key
                      FROM enqueue_jobs_item(item.doc) AS x
                    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING;
                    RAISE EXCEPTION USING ERRCODE = 'CV000';
                EXCEPTION
                    WHEN SQLSTATE 'CV000' THEN
                        NULL;
                    WHEN OTHERS THEN
                        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, con = CONSTRAINT_NAME,
                                                col = COLUMN_NAME, msg = MESSAGE_TEXT;
                        failures := failures || jsonb_build_object('ord', item.ord, 'sqlstate', st,
                            'constraint', NULLIF(con, ''), 'column', NULLIF(col, ''), 'message', msg);
                END;
            END LOOP;
            IF jsonb_array_length(failures) = 0 THEN
                RAISE;  -- no job is refused alone: the batch as a whole was (a deadlock, a lost connection)
            END IF;
            RAISE EXCEPTION '% of % jobs refused; none was written', jsonb_array_length(failures), n
                USING ERRCODE = 'CV001', DETAIL = failures::text;
    END;

    RETURN QUERY
    SELECT e.ord::integer, j.id, j.status, j.scheduled_at, j.id = ids[e.ord]
      FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(doc, ord)
     CROSS JOIN LATERAL (
               SELECT q.id, q.status, q.scheduled_at FROM job_queue q WHERE q.id = ids[e.ord]
               UNION ALL
               SELECT q.id, q.status, q.scheduled_at FROM job_queue q WHERE q.idempotency_key = e.doc ->> 'idempotency_key'
               LIMIT 1) AS j
     ORDER BY e.ord;
END
$$;

-- One element of enqueue_jobs_v3's array as the columns it fills, with enqueue_job_v3's defaults
-- (a SQL function, so that the planner inlines it into the batch's INSERT).
CREATE FUNCTION enqueue_jobs_item(doc jsonb)
RETURNS TABLE (job_type text, job_name text, job_payload jsonb, job_category text, priority integer,
               scheduled_at timestamptz, job_lane text, max_retries integer, job_group text, depends_on uuid[],
               idempotency_key text)
LANGUAGE sql STABLE AS
$$
SELECT doc ->> 'job_type', doc ->> 'job_name', doc -> 'job_payload',
       COALESCE(doc ->> 'job_category', 'standard'), COALESCE((doc ->> 'priority')::integer, 5),
       (doc ->> 'scheduled_at')::timestamptz, doc ->> 'job_lane',
       COALESCE((doc ->> 'max_retries')::integer, 3), doc ->> 'job_group',
       CASE WHEN jsonb_typeof(doc -> 'depends_on') = 'array'
            THEN ARRAY(SELECT jsonb_array_elements_text(doc -> 'depends_on'))::uuid[] END,
       doc ->> 'idempotency_key'
$$;
