-- Runs on saas_db. The first UTC day any subscription period starts: where a full build begins.
SELECT min(valid_from)::date FROM {schema}.subscription_periods
