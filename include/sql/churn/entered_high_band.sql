-- Accounts in the high risk band on %(day)s that were not in it on the previous scored day, by MRR at risk.
SELECT s.customer_id, s.mrr_cents, s.churn_probability, s.health_score, s.top_drivers
FROM {schema}.churn_scores s
LEFT JOIN {schema}.churn_scores prev
       ON prev.customer_id = s.customer_id
      AND prev.day = (SELECT max(day) FROM {schema}.churn_scores WHERE day < %(day)s)
WHERE s.day = %(day)s AND s.risk_band = 'high' AND prev.risk_band IS DISTINCT FROM 'high'
ORDER BY s.mrr_cents * s.churn_probability DESC, s.customer_id
