-- GET /api/usage: language model calls, tokens and cost from spend_daily over a range of days, summed
-- by the groupings asked (a grouping not asked is NULL in every row).
SELECT CASE WHEN :#${variable.usage.byDay} THEN day END AS day,
       CASE WHEN :#${variable.usage.byJobType} THEN job_type END AS job_type,
       CASE WHEN :#${variable.usage.byProvider} THEN provider END AS provider,
       CASE WHEN :#${variable.usage.byModel} THEN model END AS model,
       sum(calls) AS calls, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cost) AS cost
  FROM spend_daily
 WHERE day BETWEEN CAST(:#${variable.usage.from} AS date) AND CAST(:#${variable.usage.to} AS date)
 GROUP BY 1, 2, 3, 4
 ORDER BY 1, 2, 3, 4
