-- Runs on saas_db. Every user's signup month: the retention cohorts.
SELECT user_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS cohort_month
FROM {schema}.users
WHERE user_id IS NOT NULL AND created_at IS NOT NULL AND user_id <> ALL(%(quarantined_user_ids)s::text[])
