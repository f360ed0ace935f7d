-- The claim's plan depends on job_queue's statistics. Right after a bulk insert (100,000 jobs of a type
-- the statistics have not seen) the planner believes almost no row matches, and sorts every pending
-- job for each claim (36 ms for 100,000) instead of walking job_queue_claim_idx (1 ms), until autovacuum
-- next analyzes the table, which may be minutes. Two remedies:
--
-- 1. autovacuum analyzes job_queue after 2 % of its rows changed (plus 1,000), not 10 %;
ALTER TABLE job_queue SET (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 1000);

-- 2. a busy worker asks every few seconds (route job-queue-analyze) and analyzes the table itself when
--    over 10,000 rows and over 10 % of it changed since the last analyze; one worker at a time.
--    Returns whether it analyzed. (A user that does not own the table gets a warning, not an error.)
CREATE FUNCTION job_queue_analyze_if_stale() RETURNS boolean
    LANGUAGE plpgsql AS
$$
DECLARE
    changed bigint;
    total   double precision;
BEGIN
    SELECT s.n_mod_since_analyze, c.reltuples INTO changed, total
      FROM pg_stat_user_tables s
      JOIN pg_class c ON c.oid = s.relid
     WHERE s.relid = 'job_queue'::regclass;
    IF changed IS NULL OR changed < 10000 OR changed < 0.1 * greatest(total, 0) THEN
        RETURN false;
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtext('caravan: analyze job_queue')) THEN
        RETURN false;
    END IF;
    ANALYZE job_queue;
    RETURN true;
END
$$;
