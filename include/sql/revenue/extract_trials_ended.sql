-- The trials that ended from %(metrics_from)s through the run's day (SPEC "Trial conversion": `trialing`
-- periods by the UTC day of their valid_to).
SELECT customer_id, (valid_to AT TIME ZONE 'UTC')::date
FROM {schema}.subscription_periods
WHERE status = 'trialing' AND customer_id IS NOT NULL
  AND valid_to >= %(metrics_from)s::timestamp AT TIME ZONE 'UTC'
  AND valid_to < (%(day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
