-- Token budgets shared by every worker, and what the provider itself says of them.
--
-- A language model provider limits tokens per minute as well as calls. A call's lease now carries
-- tokens: reserved before the call (its request, estimated, and the most it may answer), settled to
-- what the answer's usage says when it ends (0 when the provider refused it, the reservation when
-- no answer came). The sliding log of V5 then holds tokens too: a call may start while the tokens of
-- the calls in flight or counted within the last period, plus its own, stay within tokens_per_period.
--
-- A provider counts a call's tokens when the request reaches it, not when its answer ends (a model
-- that takes 20 s to answer would otherwise keep each call's tokens in the window 20 s longer than the
-- provider does, a quarter of a one-minute budget): a lease keeps when its request was all sent
-- (tokens_at: that time plus half a second for the way there and the clocks) and its tokens leave the
-- window a period after it. NULL (the send time is not known: no answer, or the breaker kept the call
-- back) counts from ended_at, which is never earlier. Calls per period still count from ended_at (V5):
-- a call's arrival is only known to lie between its start and its end.
--
-- A 429's retry-after is kept on the provider's row (held_until), so every worker holds its calls
-- until then, not only the one that was told. (What the provider's headers say is left of its budget
-- is believed by each worker for its own calls: provider/ProviderLimits.)
ALTER TABLE api_capacity
    ADD COLUMN tokens_per_period bigint CHECK (tokens_per_period > 0),
    ADD COLUMN held_until        timestamptz;

ALTER TABLE api_capacity_leases
    ADD COLUMN tokens    bigint NOT NULL DEFAULT 0,
    ADD COLUMN tokens_at timestamptz;

DROP FUNCTION acquire_api_capacity(text, text, uuid, integer, integer);
DROP FUNCTION release_api_capacity(uuid);

-- Takes one call's worth of capacity, p_tokens of them tokens. Returns a lease id when the call may go
-- ahead (NULL lease and 0 ms when the provider has no limit), or no lease and how many milliseconds to
-- wait before asking again. The provider's row lock serialises the decision across workers.
-- A call asking more tokens than the whole budget is given the whole budget (it waits for an empty
-- window rather than for ever). A call that would fit once the calls in flight had settled (they hold
-- the most they may use and usually end having used much less) asks again in 100 ms rather than
-- waiting for the window to age: measured against a 40,000-a-minute provider, waiting left 5,000 to
-- 9,000 tokens of each minute unused.
CREATE FUNCTION acquire_api_capacity(p_provider text, p_worker_id text, p_job_id uuid, p_lease_ms integer,
                                     p_dead_after_ms integer, p_tokens bigint)
    RETURNS TABLE (lease_id uuid, retry_after_ms integer)
    LANGUAGE plpgsql AS
$$
DECLARE
    cap       api_capacity;
    now_      timestamptz := clock_timestamp();
    period    interval;
    recent    integer;
    running   integer;
    used      bigint;
    reserved  bigint;
    need      bigint;
    freed_at  timestamptz;
    lease     uuid;
BEGIN
    SELECT * INTO cap FROM api_capacity c WHERE c.provider = p_provider FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::uuid, 0;
        RETURN;
    END IF;
    IF cap.held_until > now_ THEN
        RETURN QUERY SELECT NULL::uuid, GREATEST(1, ceil(extract(epoch FROM cap.held_until - now_) * 1000)::integer);
        RETURN;
    END IF;
    period := make_interval(secs => cap.period_ms / 1000.0);
    DELETE FROM api_capacity_leases l
     WHERE l.provider = p_provider AND l.ended_at IS NOT NULL AND l.ended_at <= now_ - period;
    UPDATE api_capacity_leases l
       SET ended_at = now_
     WHERE l.provider = p_provider
       AND l.ended_at IS NULL
       AND (l.expires_at < now_
            OR NOT EXISTS (SELECT 1 FROM caravan_workers w
                            WHERE w.worker_id = l.worker_id
                              AND w.heartbeat_at > now_ - make_interval(secs => p_dead_after_ms / 1000.0)));
    SELECT count(*), count(*) FILTER (WHERE l.ended_at IS NULL), min(l.ended_at),
           coalesce(sum(l.tokens) FILTER (WHERE l.ended_at IS NULL OR coalesce(l.tokens_at, l.ended_at) > now_ - period), 0),
           coalesce(sum(l.tokens) FILTER (WHERE l.ended_at IS NULL), 0)
      INTO recent, running, freed_at, used, reserved
      FROM api_capacity_leases l WHERE l.provider = p_provider;
    IF recent >= cap.calls_per_period THEN
        RETURN QUERY SELECT NULL::uuid, CASE WHEN freed_at IS NULL THEN 100
            ELSE GREATEST(1, ceil(extract(epoch FROM freed_at + period - now_) * 1000)::integer) END;
        RETURN;
    END IF;
    IF running >= cap.max_concurrent THEN
        RETURN QUERY SELECT NULL::uuid, 100;
        RETURN;
    END IF;
    need := GREATEST(p_tokens, 0);
    IF cap.tokens_per_period IS NOT NULL THEN
        need := LEAST(need, cap.tokens_per_period);
        IF used + need > cap.tokens_per_period AND used - reserved + need <= cap.tokens_per_period THEN
            -- the calls in flight hold what they may use at most; each ends with what it used, usually
            -- much less: ask again soon rather than wait for the window to age
            RETURN QUERY SELECT NULL::uuid, 100;
            RETURN;
        END IF;
        IF used + need > cap.tokens_per_period THEN
            -- enough leaves the window when the ended calls that free it have aged a period from when
            -- their tokens were counted; with calls in flight holding it, when one of them ends
            SELECT e.at INTO freed_at
              FROM (SELECT coalesce(l.tokens_at, l.ended_at) AS at,
                           sum(l.tokens) OVER (ORDER BY coalesce(l.tokens_at, l.ended_at), l.lease_id) AS freed
                      FROM api_capacity_leases l
                     WHERE l.provider = p_provider AND l.ended_at IS NOT NULL
                       AND coalesce(l.tokens_at, l.ended_at) > now_ - period) e
             WHERE used - e.freed + need <= cap.tokens_per_period
             ORDER BY e.at
             LIMIT 1;
            RETURN QUERY SELECT NULL::uuid, CASE WHEN freed_at IS NULL THEN 100
                ELSE GREATEST(1, ceil(extract(epoch FROM freed_at + period - now_) * 1000)::integer) END;
            RETURN;
        END IF;
    END IF;
    INSERT INTO api_capacity_leases (provider, worker_id, job_id, expires_at, tokens)
    VALUES (p_provider, p_worker_id, p_job_id, now_ + make_interval(secs => p_lease_ms / 1000.0), GREATEST(p_tokens, 0))
    RETURNING api_capacity_leases.lease_id INTO lease;
    RETURN QUERY SELECT lease, 0;
END
$$;

-- Ends a lease when its call ends, whatever the outcome: the slot is free at once; the call keeps
-- counting toward the rate for a period from now, with p_tokens (what it used; NULL keeps what was
-- reserved), its tokens from when its request was all sent, p_sent_ago_ms before now (NULL: not
-- known). p_hold_ms (NULL: none): the provider asked for no call before then.
CREATE FUNCTION release_api_capacity(p_lease_id uuid, p_tokens bigint, p_hold_ms bigint, p_sent_ago_ms bigint)
    RETURNS boolean
    LANGUAGE plpgsql AS
$$
DECLARE
    now_      timestamptz := clock_timestamp();
    provider_ text;
BEGIN
    UPDATE api_capacity_leases l
       SET ended_at = now_, tokens = coalesce(p_tokens, l.tokens),
           tokens_at = CASE WHEN p_sent_ago_ms IS NULL THEN NULL
                            ELSE LEAST(now_, now_ - make_interval(secs => (p_sent_ago_ms - 500) / 1000.0)) END
     WHERE l.lease_id = p_lease_id AND l.ended_at IS NULL
    RETURNING l.provider INTO provider_;
    IF provider_ IS NULL THEN
        RETURN false;
    END IF;
    IF p_hold_ms IS NOT NULL THEN
        UPDATE api_capacity c
           SET held_until = GREATEST(c.held_until, now_ + make_interval(secs => p_hold_ms / 1000.0))
         WHERE c.provider = provider_;
    END IF;
    RETURN true;
END
$$;
