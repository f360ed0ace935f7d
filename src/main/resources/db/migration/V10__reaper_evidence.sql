-- A primary failover costs nothing (issue 29): the reaper rescues another worker's jobs only on
-- evidence that the worker is gone, not that the database was.
--
-- beating_since: when this worker's current unbroken run of heartbeats began. A heartbeat that comes
-- more than two intervals after the one before (the database was away: a restart, a failover, a
-- pooler holding statements) starts a new run. A reaper judges others' silence only once its own run
-- is as long as the heartbeat timeout: then the database has been there for a whole timeout, every
-- live worker has had that long to send its heartbeats again, and a job whose heartbeat is still older
-- than the timeout belongs to a worker that is gone.
ALTER TABLE caravan_workers ADD COLUMN beating_since timestamptz NOT NULL DEFAULT now();
