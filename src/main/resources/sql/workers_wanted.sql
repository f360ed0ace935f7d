-- The caravan_workers_wanted gauge: how many workers like this one (its concurrency, job types and
-- lanes, from headers set by route job-queue-stats) the queue is worth now. Read-only.
SELECT caravan_workers_wanted(CAST(:#concurrency AS integer),
                              string_to_array(NULLIF(replace(CAST(:#jobTypes AS text), ' ', ''), ''), ','),
                              string_to_array(NULLIF(replace(CAST(:#jobLanes AS text), ' ', ''), ''), ',')) AS wanted
