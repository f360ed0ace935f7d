-- One page of jobs, newest first, filtered by status, type, lane, group and dead-lettering (a null
-- filter matches all), after the cursor of the previous page; one row more than the page size tells
-- whether another page follows.
SELECT *
  FROM job_queue_api
 WHERE (CAST(:#${variable.query.status} AS text) IS NULL OR status = CAST(:#${variable.query.status} AS text))
   AND (CAST(:#${variable.query.type} AS text) IS NULL OR job_type = CAST(:#${variable.query.type} AS text))
   AND (CAST(:#${variable.query.lane} AS text) IS NULL OR job_lane = CAST(:#${variable.query.lane} AS text))
   AND (CAST(:#${variable.query.group} AS text) IS NULL OR job_group = CAST(:#${variable.query.group} AS text))
   AND (CAST(:#${variable.query.deadLettered} AS boolean) IS NULL
        OR (dead_letter_at IS NOT NULL) = CAST(:#${variable.query.deadLettered} AS boolean))
   AND (CAST(:#${variable.query.afterCreatedAt} AS timestamptz) IS NULL
        OR (created_at, id) < (CAST(:#${variable.query.afterCreatedAt} AS timestamptz),
                               CAST(:#${variable.query.afterId} AS uuid)))
 ORDER BY created_at DESC, id DESC
 LIMIT CAST(:#${variable.query.fetch} AS integer)
