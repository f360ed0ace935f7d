-- Hostile input, round two (issue 27).

-- Console sessions ended by a log out: refused by every worker until they would have expired. Kept by
-- the SHA-256 of the cookie, never the cookie itself.
CREATE TABLE console_ended_sessions (
    session_hash text PRIMARY KEY,
    expires_at   timestamptz NOT NULL
);

-- Why one element of enqueue_jobs_v3's array would be refused, or NULL when it is fine: a JSON object
-- holding only enqueue_job_v3's parameter names, each of its type (text fields as strings, priority and
-- max_retries as whole numbers, job_payload an object, depends_on an array of job ids), and a job_name
-- that is not empty or longer than 500 characters. A producer's mistake is an error, never a job that
-- runs at the wrong time: depends_on given as a string is refused, not dropped.
CREATE FUNCTION enqueue_jobs_item_fault(ord integer, doc jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS
$$
SELECT CASE
    WHEN jsonb_typeof(doc) IS DISTINCT FROM 'object' THEN
        jsonb_build_object('ord', ord, 'sqlstate', '22023', 'message', 'each job must be a JSON object')
    ELSE (
        SELECT jsonb_build_object('ord', ord, 'sqlstate', p.sqlstate, 'column', p.field, 'message', p.message)
          FROM (
            SELECT 1 AS rank, '22023' AS sqlstate, k AS field, 'unknown field ' || k AS message
              FROM jsonb_object_keys(doc) AS k
             WHERE k NOT IN ('job_type', 'job_name', 'job_payload', 'job_category', 'priority', 'scheduled_at',
                             'job_lane', 'max_retries', 'job_group', 'depends_on', 'idempotency_key')
            UNION ALL
            SELECT 2, '22023', k, k || ' must be a string'
              FROM unnest(ARRAY['job_type', 'job_name', 'job_category', 'scheduled_at', 'job_lane', 'job_group',
                                'idempotency_key']) AS k
             WHERE jsonb_typeof(doc -> k) NOT IN ('string', 'null')
            UNION ALL
            SELECT 3, '22023', k, k || ' must be a whole number'
              FROM unnest(ARRAY['priority', 'max_retries']) AS k
             WHERE jsonb_typeof(doc -> k) NOT IN ('number', 'null')
                OR (jsonb_typeof(doc -> k) = 'number'
                    AND ((doc ->> k)::numeric <> trunc((doc ->> k)::numeric)
                         OR (doc ->> k)::numeric NOT BETWEEN -2147483648 AND 2147483647))
            UNION ALL
            SELECT 4, '22023', 'job_payload', 'job_payload must be a JSON object'
             WHERE jsonb_typeof(doc -> 'job_payload') IS DISTINCT FROM 'object'
            UNION ALL
            SELECT 5, '22023', 'depends_on', 'depends_on must be an array of job ids (strings)'
             WHERE jsonb_typeof(doc -> 'depends_on') NOT IN ('array', 'null')
                OR (jsonb_typeof(doc -> 'depends_on') = 'array'
                    AND EXISTS (SELECT 1 FROM jsonb_array_elements(doc -> 'depends_on') AS d
                                 WHERE jsonb_typeof(d) <> 'string'))
            UNION ALL
            SELECT 6, '23502', 'job_name', 'job_name must not be empty or longer than 500 characters'
             WHERE jsonb_typeof(doc -> 'job_name') IS NOT DISTINCT FROM 'string'
               AND (btrim(doc ->> 'job_name') = '' OR length(doc ->> 'job_name') > 500)
            UNION ALL
            SELECT 6, '23502', 'job_name', 'job_name must not be empty or longer than 500 characters'
             WHERE doc -> 'job_name' IS NULL OR jsonb_typeof(doc -> 'job_name') = 'null'
          ) AS p
         ORDER BY p.rank
         LIMIT 1)
END
$$;

-- enqueue_jobs_v3 as in V6, with two changes: every element is checked as enqueue_jobs_item_fault says
-- before anything is written, and backpressure counts only the jobs the call would create, so a batch
-- sent again with the same idempotency keys is answered "already accepted" even when the type's queue is
-- full.
CREATE OR REPLACE FUNCTION enqueue_jobs_v3(jobs jsonb)
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

    -- every element as enqueue_job_v3 would take it: an object of known fields, each of its type, and
    -- enqueue_job_v3's own check of job_name; anything else names the job (ord) and the field
    SELECT COALESCE(jsonb_agg(f ORDER BY (f ->> 'ord')::integer), '[]') INTO failures
      FROM (SELECT enqueue_jobs_item_fault(e.ord::integer, e.doc) AS f
              FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(doc, ord)) AS checked
     WHERE f IS NOT NULL;
    IF jsonb_array_length(failures) > 0 THEN
        RAISE EXCEPTION '% of % jobs refused; none was written', jsonb_array_length(failures), n
            USING ERRCODE = 'CV001', DETAIL = failures::text;
    END IF;

    -- backpressure: the room each limited type has left, taken by its jobs in batch order
    FOR lim IN
        SELECT l.job_type, l.max_pending, l.over_limit, l.delay, b.count
          FROM (SELECT e.doc ->> 'job_type' AS job_type, count(*) AS count
                  FROM (SELECT x.doc, row_number() OVER (PARTITION BY x.doc ->> 'idempotency_key' ORDER BY x.ord) AS key_pos
                          FROM jsonb_array_elements(jobs) WITH ORDINALITY AS x(doc, ord)) AS e
                 -- only the jobs this call would create: a key seen before (or earlier in the batch) takes no room
                 WHERE e.doc ->> 'idempotency_key' IS NULL
                    OR (e.key_pos = 1 AND NOT EXISTS (SELECT 1 FROM job_queue o
                                                        WHERE o.idempotency_key = e.doc ->> 'idempotency_key'))
                 GROUP BY 1) AS b
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
          FROM (SELECT n.*,
                       -- a new job's place among this batch's new jobs of its type: beyond the room, delayed
                       row_number() OVER (PARTITION BY n.job_type ORDER BY n.ord) AS type_pos
                  FROM (SELECT ids[e.ord] AS id, e.ord, x.*,
                               COALESCE(x.scheduled_at, now()) AS due,
                               row_number() OVER (PARTITION BY x.idempotency_key ORDER BY e.ord) AS key_pos
                          FROM jsonb_array_elements(jobs) WITH ORDINALITY AS e(doc, ord),
                               LATERAL enqueue_jobs_item(e.doc) AS x) AS n
                 WHERE n.idempotency_key IS NULL
                    OR (n.key_pos = 1 AND NOT EXISTS (SELECT 1 FROM job_queue o
                                                        WHERE o.idempotency_key = n.idempotency_key))) AS i
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

