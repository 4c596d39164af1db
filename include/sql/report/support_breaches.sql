-- The accounts with first-response breaches in the 30 days to the newest day, most MRR first.
SELECT customer_id, mrr_cents, open_tickets, breaches_30d, last_csat
FROM {schema}.support_account_daily
WHERE day = (SELECT max(day) FROM {schema}.support_account_daily) AND breaches_30d > 0
ORDER BY mrr_cents DESC, breaches_30d DESC, customer_id
LIMIT 15
