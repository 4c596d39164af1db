-- Runs on saas_db. Every account's name, signup time and account owner (who signs a high-risk check-in).
SELECT customer_id, name, created_at, {account_owner_name} FROM {schema}.customers
WHERE customer_id IS NOT NULL AND customer_id <> ALL(%(quarantined_customer_ids)s::text[])
