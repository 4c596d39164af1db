-- The day's high-risk check-ins, by account owner: who was written to in whose name.
SELECT coalesce(variables->>'owner_name', '(no account owner)'), variables->>'account_name', customer_id,
       (variables->>'mrr_cents')::bigint, (variables->>'churn_probability')::float, status
FROM {schema}.email_sends
WHERE campaign = 'high_risk' AND day = %(day)s AND status IN ('sent', 'dry_run')
ORDER BY 1, 4 DESC, 3
