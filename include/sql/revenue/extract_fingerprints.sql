-- Runs on saas_db. The fingerprint of each customer of the buckets that moved (every bucket on a first build or
-- a full refresh): the sum of a 64-bit hash of each of its rows (as extract_fingerprint_buckets.sql sums them).
SELECT coalesce(customer_id, '') AS customer_id, hashtext(coalesce(customer_id, '')) & 65535 AS bucket,
       sum(hash_record_extended((subscription_id, status, currency, amount_cents, quantity, billing_interval,
                                 interval_count, valid_from, valid_to, plan_id), 0)) AS fingerprint
FROM {schema}.subscription_periods
WHERE %(every_bucket)s OR hashtext(coalesce(customer_id, '')) & 65535 = ANY(%(buckets)s::integer[])
GROUP BY 1, 2
