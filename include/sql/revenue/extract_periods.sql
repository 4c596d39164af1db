-- Runs on saas_db. Every row of the customers whose fingerprint moved (customer '' stands for the rows without
-- one), or of every customer on a first build or a full refresh.
SELECT subscription_id, customer_id, status, currency, amount_cents, quantity, billing_interval, interval_count,
       valid_from, valid_to, plan_id::text
FROM {schema}.subscription_periods
WHERE %(every_customer)s OR customer_id = ANY(%(customer_ids)s::text[])
   OR (customer_id IS NULL AND '' = ANY(%(customer_ids)s::text[]))
