-- Runs on saas_db. Payment attempts per account and UTC day in the 90 days before any observation date.
SELECT customer_id, (attempted_at AT TIME ZONE 'UTC')::date, count(*) FILTER (WHERE status = 'failed')
FROM {schema}.payment_attempts
WHERE attempted_at >= %(first_t)s::date - 90 AND attempted_at < %(last_t)s
  AND attempt_id::text <> ALL(%(quarantined_attempt_ids)s::text[])
GROUP BY 1, 2
