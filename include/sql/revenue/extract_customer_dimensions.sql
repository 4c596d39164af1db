-- Runs on saas_db. Each customer's segment and country (optional columns: null where a view leaves them out);
-- a customer_id several rows hold gets neither, so no MRR is counted twice.
SELECT customer_id,
       CASE WHEN count(*) = 1 THEN min({segment}) END,
       CASE WHEN count(*) = 1 THEN min({country}) END
FROM {schema}.customers
WHERE customer_id IS NOT NULL
GROUP BY customer_id
