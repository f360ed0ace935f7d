-- The console's Spend page: the last 30 days (UTC) of spend_daily, summed three ways in one pass — by
-- day, by job type, by provider and model (column grouping names which).
SELECT CASE WHEN GROUPING(day) = 0 THEN 'day' WHEN GROUPING(job_type) = 0 THEN 'job_type' ELSE 'model' END AS grouping,
       day, job_type, provider, model,
       sum(calls) AS calls, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost
  FROM spend_daily
 WHERE day > (now() AT TIME ZONE 'UTC')::date - 30
 GROUP BY GROUPING SETS ((day), (job_type), (provider, model))
 ORDER BY grouping, day DESC, sum(cost) DESC
