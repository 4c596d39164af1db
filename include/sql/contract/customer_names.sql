-- The names of the customers an alert names.
SELECT customer_id, name FROM {schema}.customers WHERE customer_id = ANY(%(customer_ids)s)
