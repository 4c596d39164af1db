-- Accounts per risk band on a scored day.
SELECT risk_band, count(*) FROM {schema}.churn_scores WHERE day = %(day)s GROUP BY 1
