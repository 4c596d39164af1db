-- What this run's restatement changed: each month whose rows of restated customers changed, and the change
-- of its MRR (mrr_month_changes: rows taken out -1, put in +1).
SELECT c.month, sum(c.sign * c.mrr_cents)::bigint AS mrr_change_cents
FROM mrr_month_changes c
JOIN mrr_restated r USING (customer_id)
GROUP BY c.month
ORDER BY c.month
