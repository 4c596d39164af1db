-- Each row's outcome (status, error, provider id); a failed row leaves its batch, to be retried under a new key.
UPDATE {schema}.email_sends e
SET status = o.status, error = o.error,
    provider_message_id = coalesce(o.provider_id, e.provider_message_id),
    sent_at = CASE WHEN o.status = 'sent' THEN now() ELSE e.sent_at END,
    batch_key = CASE WHEN o.status = 'failed' THEN NULL ELSE e.batch_key END,
    attempts = greatest(e.attempts, coalesce(%(attempts)s, e.attempts)), last_attempt_at = now()
FROM unnest(%(keys)s::text[], %(statuses)s::text[], %(errors)s::text[], %(ids)s::text[])
     AS o(key, status, error, provider_id)
WHERE e.idempotency_key = o.key
