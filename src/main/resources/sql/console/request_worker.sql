-- Pause or resume a worker from the console: it applies the request at its next heartbeat.
UPDATE caravan_workers SET requested = CAST(:#action AS text) WHERE worker_id = CAST(:#workerId AS text)
RETURNING worker_id
