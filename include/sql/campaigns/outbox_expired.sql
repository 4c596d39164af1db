-- Emails not sent within EXPIRES_AFTER_DAYS of their day are no longer timely: failed, for good.
UPDATE {schema}.email_sends
SET status = 'failed', attempts = greatest(attempts, %(max)s),
    error = 'expired: not sent within ' || %(days)s || ' days of its day (' || day || ')'
WHERE status IN ('queued', 'failed') AND batch_key IS NULL AND day < %(day)s::date - %(days)s
