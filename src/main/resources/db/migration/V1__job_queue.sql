-- Caravan's queue: the job_queue table of the seed column audit (seed 003), with the bugs that audit
-- lists fixed in the database itself, plus a registry of job types so that an operator who adds a
-- pipeline never has to edit a CHECK constraint to enqueue its jobs.

-- Every job type a worker can run. Seed types are listed here; a worker registers the types of its
-- pipeline routes at start-up. A job of a type nobody registered is refused at insert.
CREATE TABLE job_types (
    job_type      text PRIMARY KEY CHECK (job_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    description   text,
    registered_by text,
    registered_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO job_types (job_type, description, registered_by) VALUES
    ('shell_file_processing', 'document -> OCR, then enqueues ai_processing', 'migration'),
    ('ai_processing',         'LLM over a document and its OCR',              'migration'),
    ('data_migration',        'seed type',                                    'migration'),
    ('audit_cleanup',         'retention of finished jobs',                   'migration'),
    ('notification_delivery', 'signed webhook POST',                          'migration'),
    ('report_generation',     'seed type',                                    'migration'),
    ('backup_operation',      'seed type',                                    'migration'),
    ('system_maintenance',    'seed type',                                    'migration'),
    ('semantic_processing',   'seed type',                                    'migration'),
    ('consent_verification',  'seed type',                                    'migration'),
    ('provider_verification', 'seed type',                                    'migration'),
    ('pdf_to_xml',            'PDF gateway POST /process -> results/{id}.xml', 'migration');

CREATE TABLE job_queue (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),

    job_type           text NOT NULL REFERENCES job_types (job_type),
    job_lane           text,
    job_category       text NOT NULL DEFAULT 'standard'
                       CHECK (job_category IN ('critical', 'high_priority', 'standard', 'background', 'maintenance')),

    job_name           text NOT NULL,
    job_description    text,
    job_payload        jsonb NOT NULL CHECK (jsonb_typeof(job_payload) = 'object'),
    job_config         jsonb DEFAULT '{}'::jsonb,

    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled', 'retrying', 'deferred')),
    scheduled_at       timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    completed_at       timestamptz,

    priority           integer NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
    estimated_duration interval,
    actual_duration    interval,
    memory_usage_mb    integer,
    cpu_usage_percent  numeric(5, 2),

    retry_count        integer NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    max_retries        integer NOT NULL DEFAULT 3
                       CONSTRAINT job_queue_max_retries_range CHECK (max_retries BETWEEN 0 AND 100),
    retry_delay        interval NOT NULL DEFAULT '5 minutes'
                       CONSTRAINT job_queue_retry_delay_range CHECK (retry_delay >= interval '0' AND retry_delay <= interval '7 days'),
    last_error         text,
    error_details      jsonb,

    depends_on         uuid[],
    blocks_jobs        uuid[],
    job_group          text,

    worker_id          text CONSTRAINT job_queue_worker_id_expanded CHECK (worker_id !~ '\$\{'),
    processing_node    text,
    lock_acquired_at   timestamptz,
    lock_expires_at    timestamptz,
    heartbeat_at       timestamptz,
    dead_letter_at     timestamptz,

    patient_id         uuid,
    shell_file_id      uuid,
    narrative_id       uuid,

    job_result         jsonb,
    output_files       text[],

    -- a producer's key: submitting the same key twice gives back the same job (POST /api/jobs)
    idempotency_key    text CONSTRAINT job_queue_idempotency_key_length CHECK (length(idempotency_key) BETWEEN 1 AND 200),

    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),

    -- Seed 003's lane rules, for the seed's types. Types Caravan or an operator adds may use lanes freely.
    CONSTRAINT job_queue_lane_rules CHECK (COALESCE(
        CASE job_type
            WHEN 'shell_file_processing' THEN job_lane IN ('fast_queue', 'standard_queue')
            WHEN 'ai_processing'         THEN job_lane IN ('ai_queue_simple', 'ai_queue_complex')
            WHEN 'data_migration'        THEN job_lane IS NULL
            WHEN 'audit_cleanup'         THEN job_lane IS NULL
            WHEN 'notification_delivery' THEN job_lane IS NULL
            WHEN 'report_generation'     THEN job_lane IS NULL
            WHEN 'backup_operation'      THEN job_lane IS NULL
            WHEN 'system_maintenance'    THEN job_lane IS NULL
            WHEN 'semantic_processing'   THEN job_lane IS NULL
            WHEN 'consent_verification'  THEN job_lane IS NULL
            WHEN 'provider_verification' THEN job_lane IS NULL
            ELSE true
        END, false)),
    -- heartbeat_at belongs to running jobs only (seed 003 bug 2: it outlived completion)
    CONSTRAINT job_queue_heartbeat_only_while_processing CHECK (heartbeat_at IS NULL OR status = 'processing'),
    CONSTRAINT job_queue_no_self_dependency CHECK (depends_on IS NULL OR NOT (id = ANY (depends_on)))
);

COMMENT ON TABLE job_queue IS 'Caravan job queue; columns follow the seed 003 column audit';
COMMENT ON COLUMN job_queue.patient_id IS 'filled from job_payload.patient_id by trigger job_queue_extract_ids';
COMMENT ON COLUMN job_queue.shell_file_id IS 'filled from job_payload.shell_file_id by trigger job_queue_extract_ids';

-- Fills patient_id and shell_file_id from the payload whoever inserts (seed 003 bugs 4 and 5),
-- refuses a malformed id naming the field, and refuses dependencies on jobs that do not exist.
CREATE FUNCTION job_queue_before_write() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    field   text;
    raw     text;
    missing uuid;
BEGIN
    FOREACH field IN ARRAY ARRAY['patient_id', 'shell_file_id'] LOOP
        raw := NEW.job_payload ->> field;
        IF raw IS NOT NULL AND raw !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            RAISE EXCEPTION 'job_payload.% is not a UUID: "%"', field, left(raw, 80)
                USING ERRCODE = 'invalid_text_representation', COLUMN = field;
        END IF;
    END LOOP;
    NEW.patient_id := (NEW.job_payload ->> 'patient_id')::uuid;
    NEW.shell_file_id := (NEW.job_payload ->> 'shell_file_id')::uuid;

    IF TG_OP = 'INSERT' AND NEW.depends_on IS NOT NULL THEN
        SELECT d INTO missing
          FROM unnest(NEW.depends_on) AS d
         WHERE NOT EXISTS (SELECT 1 FROM job_queue q WHERE q.id = d)
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'depends_on names job % which does not exist', missing
                USING ERRCODE = 'foreign_key_violation', COLUMN = 'depends_on';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER job_queue_extract_ids
    BEFORE INSERT OR UPDATE OF job_payload ON job_queue
    FOR EACH ROW EXECUTE FUNCTION job_queue_before_write();

-- error_details of a new failure: the new entry, with the previous failure (and its own history)
-- appended to the history, keeping the last 20 so a job that snoozes for days stays small.
CREATE FUNCTION job_error_details(previous jsonb, entry jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS
$$
SELECT entry || jsonb_build_object('history', jsonb_path_query_array(
           COALESCE(previous -> 'history', '[]'::jsonb)
           || CASE WHEN previous IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(previous - 'history') END,
           '$[last - 19 to last]'))
$$;

-- The claim: pending work in claim order (priority, then scheduled_at, then created_at). It is the
-- only index on pending work by design: with another (e.g. by job_type) the planner may pick it after
-- a burst of inserts, sort every pending row and turn a 0.2 ms claim into 25 ms.
CREATE INDEX job_queue_claim_idx ON job_queue (priority, scheduled_at, created_at) WHERE status = 'pending';
-- The reaper: running jobs by heartbeat.
CREATE INDEX job_queue_heartbeat_idx ON job_queue (heartbeat_at) WHERE status = 'processing';
-- Retention: finished jobs by age.
CREATE INDEX job_queue_finished_idx ON job_queue (completed_at) WHERE status IN ('completed', 'failed', 'cancelled');
-- Lookups.
CREATE INDEX job_queue_patient_idx ON job_queue (patient_id) WHERE patient_id IS NOT NULL;
CREATE INDEX job_queue_shell_file_idx ON job_queue (shell_file_id) WHERE shell_file_id IS NOT NULL;
CREATE INDEX job_queue_group_idx ON job_queue (job_group) WHERE job_group IS NOT NULL;
CREATE INDEX job_queue_dead_letter_idx ON job_queue (dead_letter_at) WHERE dead_letter_at IS NOT NULL;
CREATE UNIQUE INDEX job_queue_idempotency_idx ON job_queue (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX job_queue_depends_on_idx ON job_queue USING gin (depends_on) WHERE depends_on IS NOT NULL;

-- A queue table churns: every job is inserted, updated two or three times and later removed. Vacuum
-- and analyze it after a few thousand changes rather than after a fraction of its size, so claims do
-- not wade through dead index entries and plans follow the queue's real shape.
ALTER TABLE job_queue SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 5000,
                           autovacuum_analyze_scale_factor = 0.0, autovacuum_analyze_threshold = 5000,
                           autovacuum_vacuum_cost_delay = 0);

-- Where audit_cleanup archives finished jobs: the same columns plus when they were archived.
CREATE TABLE job_queue_history (LIKE job_queue INCLUDING DEFAULTS);
ALTER TABLE job_queue_history ADD COLUMN archived_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE job_queue_history ADD PRIMARY KEY (id);
CREATE INDEX job_queue_history_archived_idx ON job_queue_history (archived_at);
