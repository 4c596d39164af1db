-- Runs on saas_db. The payment attempts every DAG leaves out, with the reason: an attempt_id several rows hold,
-- or an amount beyond what the pack adds up (at most 10^13 cents either way).
SELECT attempt_id::text, count(*) || ' rows hold this attempt_id: all are left out'
FROM {schema}.payment_attempts
WHERE NOT %(key_is_unique)s AND attempt_id IS NOT NULL
GROUP BY attempt_id
HAVING count(*) > 1
UNION ALL
SELECT attempt_id::text, 'amount_cents ' || amount_cents || ' is beyond what the pack adds up (at most 10^13 cents)'
FROM {schema}.payment_attempts
WHERE abs(amount_cents) > 1e13
