-- A clean stop: the worker's row goes, and any provider lease it still holds ends (its slot is free;
-- it keeps counting toward the rate for a period).
WITH leases AS (UPDATE api_capacity_leases SET ended_at = clock_timestamp()
                 WHERE worker_id = :workerId AND ended_at IS NULL)
DELETE FROM caravan_workers WHERE worker_id = :workerId
