-- The next batch to send: queued emails, and failed ones due for another try.
SELECT idempotency_key, campaign, user_id, variables, day, coalesce(variant, 'default')
FROM {schema}.email_sends
WHERE batch_key IS NULL
  AND (status = 'queued' OR (status = 'failed' AND attempts < %(max)s AND last_attempt_at < %(started)s))
ORDER BY idempotency_key
LIMIT %(limit)s
