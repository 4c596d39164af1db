-- Runs on saas_db. Trialing periods in force at the end of the day (valid_from < day + 1 <= valid_to).
SELECT subscription_id::text, customer_id, valid_from, {trial_ends_at}
FROM {schema}.subscription_periods
WHERE status = 'trialing' AND valid_from < %(day_end)s AND (valid_to IS NULL OR valid_to >= %(day_end)s)
