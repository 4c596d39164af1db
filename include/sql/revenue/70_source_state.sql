-- The source as read now replaces the stored state the figures were built from: the changed customers'
-- paying periods and fingerprints, the changed buckets' fingerprints, and the rates. (The pass of 60_movements.sql before this reads the old
-- state; the pass after it, this one.)
DELETE FROM {schema}.mrr_paying_periods p USING mrr_changed_customers c WHERE p.customer_id = c.customer_id;
INSERT INTO {schema}.mrr_paying_periods (customer_id, currency, mrr_num, mrr_den, first_day, end_day, plan_id,
                                         billing_interval)
SELECT customer_id, currency, mrr_num, mrr_den, first_day, end_day, plan_id, billing_interval
FROM mrr_new_paying_periods
ORDER BY customer_id, first_day;
ANALYZE {schema}.mrr_paying_periods;

DELETE FROM {schema}.mrr_source_fingerprints f USING mrr_changed_customers c WHERE f.customer_id = c.customer_id;
INSERT INTO {schema}.mrr_source_fingerprints (customer_id, bucket, fingerprint)
SELECT customer_id, bucket, fingerprint FROM mrr_changed_customers WHERE fingerprint IS NOT NULL;
DELETE FROM {schema}.mrr_source_buckets b USING mrr_changed_buckets c WHERE b.bucket = c.bucket;
INSERT INTO {schema}.mrr_source_buckets (bucket, fingerprint)
SELECT bucket, fingerprint FROM mrr_source_buckets_now WHERE bucket IN (SELECT bucket FROM mrr_changed_buckets);

DELETE FROM {schema}.mrr_fx_rates;
INSERT INTO {schema}.mrr_fx_rates (currency, rate_date, rate)
SELECT currency, rate_date, rate FROM mrr_fx_checks WHERE reason IS NULL;
ANALYZE {schema}.mrr_fx_rates;
