-- Runs on saas_db. Per bucket of customers (65,536 of them, by a hash of customer_id; '' for the rows without
-- one), the sum of a 64-bit hash of each row, and the first day any period starts. One scan of the table: a row
-- added, changed or deleted anywhere moves its bucket's fingerprint.
SELECT hashtext(coalesce(customer_id, '')) & 65535 AS bucket,
       sum(hash_record_extended((subscription_id, status, currency, amount_cents, quantity, billing_interval,
                                 interval_count, valid_from, valid_to, plan_id), 0)) AS fingerprint,
       min(valid_from)::date AS first_day
FROM {schema}.subscription_periods
GROUP BY 1
