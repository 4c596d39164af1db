-- Batches a killed run left in flight (their key written, their outcome not), oldest first.
SELECT batch_key, min(first_attempt_at)
FROM {schema}.email_sends
WHERE status = 'queued' AND batch_key IS NOT NULL
GROUP BY batch_key
ORDER BY 2, 1
