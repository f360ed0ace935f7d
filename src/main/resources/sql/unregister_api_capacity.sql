-- A provider configured without limits: remove its row, so it is unlimited for every worker.
DELETE FROM api_capacity WHERE provider = :provider
