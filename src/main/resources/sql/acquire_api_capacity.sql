-- One call's worth of a provider's capacity (V5__workers_and_sliding_limits.sql, V12__token_budgets.sql):
-- a lease, or how long to wait. deadAfterMs: after how long without a heartbeat a lease's worker
-- counts as dead (its leases are given back). tokens: what the call may use at most (0: not counted).
SELECT lease_id, retry_after_ms FROM acquire_api_capacity(:provider, :workerId, :jobId, :leaseMs, :deadAfterMs, :tokens)
