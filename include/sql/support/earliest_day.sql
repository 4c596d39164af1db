-- Runs on saas_db. The first UTC day with a ticket: where a full build begins.
SELECT (min(created_at) AT TIME ZONE 'UTC')::date FROM {schema}.support_tickets
