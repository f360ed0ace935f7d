-- What a budget's scope (a provider, or a job type) has spent since a day (today or the month's
-- first, UTC): the money budgets of SpendLedger.
SELECT coalesce(sum(cost), 0)
  FROM spend_daily
 WHERE day >= :since
   AND (CAST(:provider AS text) IS NULL OR provider = CAST(:provider AS text))
   AND (CAST(:jobType AS text) IS NULL OR job_type = CAST(:jobType AS text))
