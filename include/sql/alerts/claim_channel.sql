-- Claims a channel for a run's alert: a row comes back only for the first claim, so the alert goes out once.
INSERT INTO {schema}.alert_claims (dag_id, run_id, channel) VALUES (%(dag_id)s, %(run_id)s, %(channel)s)
ON CONFLICT DO NOTHING
RETURNING 1
