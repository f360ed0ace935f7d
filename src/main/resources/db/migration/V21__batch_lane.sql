-- The batch lane (issue 34): language model requests sent through a provider's Batch API (OpenAI's
-- Files and Batches), answered within a day at half the price. A job in the lane runs its pipeline as
-- usual up to the model call; there its request is kept in llm_batch_requests and the job waits as
-- 'deferred' (seed 003's value: neither the reaper nor the claim touch it, the API and console can
-- cancel it). Any worker gathers waiting requests into a batch (llm_batches), uploads them and follows
-- the batch; when it ends, each request gets its answer (the line's response, or an error naming why
-- there is none) and its job goes back to 'pending'. The job's next run takes the answer instead of
-- calling the provider and goes on through the same result and failure path as a direct call.

CREATE TABLE llm_batches (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider          text NOT NULL,
    model             text NOT NULL,
    -- the path every line is sent to, e.g. /v1/chat/completions
    endpoint          text NOT NULL,
    -- the provider's states, and Caravan's own: gathering (being written and uploaded), applied (every
    -- request has its answer and its job is back in the queue), abandoned (never created at the
    -- provider: its requests went back to be gathered again)
    state             text NOT NULL DEFAULT 'gathering'
                      CHECK (state IN ('gathering', 'validating', 'in_progress', 'finalizing', 'completed', 'failed',
                                       'expired', 'cancelling', 'cancelled', 'applied', 'abandoned')),
    provider_batch_id text,
    input_file_id     text,
    output_file_id    text,
    error_file_id     text,
    request_count     integer NOT NULL DEFAULT 0,
    request_bytes     bigint  NOT NULL DEFAULT 0,
    -- the provider's request_counts, as last seen
    completed_count   integer NOT NULL DEFAULT 0,
    failed_count      integer NOT NULL DEFAULT 0,
    -- requests that got an answer from the output or error file (the others got an error of Caravan's)
    answered_count    integer NOT NULL DEFAULT 0,
    last_error        text,
    created_by        text NOT NULL,
    -- one worker at a time gathers or follows a batch: the one whose lease runs
    followed_by       text,
    follow_until      timestamptz,
    next_poll_at      timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz
);

CREATE INDEX llm_batches_open_idx ON llm_batches (next_poll_at) WHERE state NOT IN ('applied', 'abandoned');

CREATE TABLE llm_batch_requests (
    job_id       uuid PRIMARY KEY REFERENCES job_queue (id) ON DELETE CASCADE,
    provider     text NOT NULL,
    model        text NOT NULL,
    endpoint     text NOT NULL,
    -- the request as a direct call would send it (JSON)
    body         text NOT NULL,
    bytes        integer NOT NULL,
    batch_id     uuid REFERENCES llm_batches (id) ON DELETE SET NULL,
    -- the answer: the line's HTTP status and body, or Caravan's error ({code, kind, message, http_status})
    answer_status integer,
    answer        text,
    answer_error  jsonb,
    answered_at   timestamptz,
    -- when a run of the job took the answer: kept until that run's failure is written (job-fail), so a
    -- run that never ended (its worker killed, or stopped) leaves it for the next run instead of
    -- sending the request again
    taken_at      timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX llm_batch_requests_waiting_idx ON llm_batch_requests (provider, model, endpoint, created_at)
    WHERE batch_id IS NULL;
CREATE INDEX llm_batch_requests_batch_idx ON llm_batch_requests (batch_id) WHERE batch_id IS NOT NULL;

-- Where a job's request stands in the lane, for the API's and the console's job views: its batch (and the
-- batch's state), or waiting to be gathered; null for a job outside the lane.
CREATE FUNCTION llm_batch_of(job uuid) RETURNS json
    LANGUAGE sql STABLE AS
$$
SELECT json_build_object('batch_id', b.id, 'provider', r.provider, 'model', r.model,
                         'provider_batch_id', b.provider_batch_id, 'state', b.state,
                         'waiting_since', r.created_at, 'answered', r.answered_at IS NOT NULL)
  FROM llm_batch_requests r LEFT JOIN llm_batches b ON b.id = r.batch_id
 WHERE r.job_id = job
$$;
