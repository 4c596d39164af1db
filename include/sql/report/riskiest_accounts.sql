-- The ten high-risk accounts with the most MRR at risk on a scored day.
SELECT customer_id, mrr_cents, churn_probability, health_score, top_drivers
FROM {schema}.churn_scores
WHERE day = %(day)s AND risk_band = 'high'
ORDER BY mrr_cents * churn_probability DESC, customer_id
LIMIT 10
