-- Runs on saas_db. Paying periods in force at some point of [first observation − 31 days, last observation]:
-- plan, billing interval and seats at t and 30 days before.
SELECT customer_id, plan_id, status, billing_interval, quantity, amount_cents, valid_from, valid_to
FROM {schema}.subscription_periods
WHERE status IN ('active', 'past_due') AND valid_from < %(last_t)s
  AND (valid_to IS NULL OR valid_to >= %(first_t)s::date - 31)
