-- The buckets of customers whose subscription_periods rows changed since the stored figures were built: the
-- source's sum differs from the stored one, or only one of the two exists (after a full refresh: all of them).
CREATE TEMP TABLE mrr_changed_buckets ON COMMIT DROP AS
SELECT bucket
FROM mrr_source_buckets_now n
FULL JOIN {schema}.mrr_source_buckets s USING (bucket)
WHERE n.fingerprint IS DISTINCT FROM s.fingerprint;
