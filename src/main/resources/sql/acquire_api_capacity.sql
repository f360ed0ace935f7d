-- One call's worth of a provider's capacity (V4__api_capacity.sql): a lease, or how long to wait.
SELECT lease_id, retry_after_ms FROM acquire_api_capacity(?, ?, ?, ?)
