-- The emails of a batch in flight, in the order they were sent.
SELECT idempotency_key, campaign, user_id, variables, day, coalesce(variant, 'default')
FROM {schema}.email_sends
WHERE batch_key = %(batch_key)s AND status = 'queued'
ORDER BY idempotency_key
