-- A batch's key is written on its rows before the request, so a killed run resends it under the same key.
UPDATE {schema}.email_sends
SET batch_key = %(batch)s, attempts = attempts + 1, first_attempt_at = now(), last_attempt_at = now()
WHERE idempotency_key = ANY(%(keys)s)
