-- The customers whose rows changed, in the buckets that moved: the source's fingerprint differs from the stored
-- one, or only one of the two exists.
CREATE TEMP TABLE mrr_changed_customers ON COMMIT DROP AS
SELECT customer_id, coalesce(n.bucket, s.bucket) AS bucket, n.fingerprint
FROM mrr_source_fingerprints_now n
FULL JOIN (SELECT * FROM {schema}.mrr_source_fingerprints
           WHERE bucket IN (SELECT bucket FROM mrr_changed_buckets)) s USING (customer_id)
WHERE n.fingerprint IS DISTINCT FROM s.fingerprint;
ALTER TABLE mrr_changed_customers ADD PRIMARY KEY (customer_id);
ANALYZE mrr_changed_customers;
