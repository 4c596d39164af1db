-- When each invoice of the measured failed_payment emails was first paid (a succeeded attempt), if it was.
SELECT invoice_id, min(attempted_at)
FROM {schema}.payment_attempts
WHERE status = 'succeeded' AND invoice_id = ANY(%(invoice_ids)s::text[]) AND attempted_at >= %(first_day)s
GROUP BY 1
