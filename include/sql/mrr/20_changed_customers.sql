-- The customers whose subscription_periods rows changed since the stored figures were built: the source's
-- fingerprint differs from the stored one, or only one of the two exists (after a full refresh: everyone).
CREATE TEMP TABLE mrr_changed_customers ON COMMIT DROP AS
SELECT customer_id, n.fingerprint
FROM mrr_source_fingerprints_now n
FULL JOIN {schema}.mrr_source_fingerprints s USING (customer_id)
WHERE n.fingerprint IS DISTINCT FROM s.fingerprint;
ALTER TABLE mrr_changed_customers ADD PRIMARY KEY (customer_id);
ANALYZE mrr_changed_customers;
