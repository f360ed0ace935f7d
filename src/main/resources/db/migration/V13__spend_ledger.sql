-- What the language models cost: every call's tokens, priced by the worker's configuration
-- (caravan.providers.<name>.prices), kept twice:
--   spend_daily  summed by day (UTC) x job type x provider x model: a row per combination a day, so it
--                stays small whatever the volume; the source of GET /api/usage, the console's Spend
--                page and the money budgets (caravan.budgets);
--   job_spend    summed per job, as long as the job's row is kept: what one document cost, and the
--                most expensive jobs of a day.
-- A call is recorded once its answer is in (provider-call), by the worker that made it.
CREATE TABLE spend_daily (
    day           date   NOT NULL,
    job_type      text   NOT NULL,
    provider      text   NOT NULL,
    model         text   NOT NULL,
    calls         bigint NOT NULL DEFAULT 0,
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cost          numeric(20, 8) NOT NULL DEFAULT 0,
    PRIMARY KEY (day, job_type, provider, model)
);
-- budgets read one provider's (or one job type's) spending since the start of a day or a month
CREATE INDEX spend_daily_provider_idx ON spend_daily (provider, day);

CREATE TABLE job_spend (
    job_id        uuid PRIMARY KEY REFERENCES job_queue (id) ON DELETE CASCADE,
    day           date   NOT NULL,
    calls         bigint NOT NULL DEFAULT 0,
    input_tokens  bigint NOT NULL DEFAULT 0,
    output_tokens bigint NOT NULL DEFAULT 0,
    cost          numeric(20, 8) NOT NULL DEFAULT 0,
    providers     text[] NOT NULL DEFAULT '{}',
    models        text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX job_spend_day_cost_idx ON job_spend (day, cost DESC);
