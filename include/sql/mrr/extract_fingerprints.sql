-- Runs on saas_db. Each customer's fingerprint: the sum of a 64-bit hash of each of its rows (customer ''
-- for the rows without one), and the first day it has a period. One scan of the table: a row added, changed
-- or deleted anywhere moves its customer's fingerprint.
SELECT coalesce(customer_id, '') AS customer_id,
       sum(hash_record_extended((subscription_id, status, currency, amount_cents, quantity, billing_interval,
                                 interval_count, valid_from, valid_to), 0)) AS fingerprint,
       min(valid_from)::date AS first_day
FROM {schema}.subscription_periods
GROUP BY 1
