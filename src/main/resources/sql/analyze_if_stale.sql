-- job_queue's statistics refreshed when a bulk insert or a drain has made them stale
-- (V17__fresh_statistics.sql): one row, analyzed true or false.
SELECT job_queue_analyze_if_stale() AS analyzed
