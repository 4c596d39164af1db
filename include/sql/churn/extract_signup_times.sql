-- Runs on saas_db. Every account's signup time (tenure).
SELECT customer_id, created_at FROM {schema}.customers
WHERE customer_id <> ALL(%(quarantined_customer_ids)s::text[])
