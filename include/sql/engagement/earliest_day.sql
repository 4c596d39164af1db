-- Runs on saas_db. The first UTC day with an event: where a full build begins.
SELECT (min(occurred_at) AT TIME ZONE 'UTC')::date FROM {schema}.events
