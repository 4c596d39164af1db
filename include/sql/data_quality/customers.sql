-- Runs on saas_db. The customers every DAG leaves out, with the reason: a customer_id several rows hold (which
-- one is right is for the application to say). Read by its key's index where the table has one.
SELECT customer_id::text, count(*) || ' rows hold this customer_id: all are left out'
FROM {schema}.customers
WHERE NOT %(key_is_unique)s AND customer_id IS NOT NULL
GROUP BY customer_id
HAVING count(*) > 1
