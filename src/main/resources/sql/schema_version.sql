-- The schema version Flyway applied last (DatabaseHealthCheck: readiness when it is the one this jar expects).
SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank DESC LIMIT 1
