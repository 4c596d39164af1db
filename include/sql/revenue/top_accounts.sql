-- The accounts that lost the most MRR on a day (churn and contraction), biggest first.
SELECT customer_id, movement, previous_cents, mrr_cents
FROM {schema}.customer_mrr_changes
WHERE day = %(day)s::date AND movement IN ('churn', 'contraction')
ORDER BY previous_cents - mrr_cents DESC, customer_id
LIMIT %(limit)s
