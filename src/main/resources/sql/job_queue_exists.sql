-- Whether table job_queue exists, for a schema Caravan does not migrate (caravan.db.migrate=false).
SELECT to_regclass('job_queue') IS NOT NULL
