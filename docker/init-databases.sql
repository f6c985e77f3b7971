-- The server holds two databases: `datastorm` (the target, created by the
-- image from POSTGRES_DB) and `dagster` (Dagster's runs, events, schedules).
CREATE DATABASE dagster OWNER datastorm;
