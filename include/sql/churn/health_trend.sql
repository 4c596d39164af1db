-- The realised AUC of the scored days judged by earlier checks in the 30 days before %(day)s, one per scored
-- day (the latest check of it): the 7- and 30-day trends of churn_model_health.
SELECT DISTINCT ON (realised_day) realised_day, auc, churned
FROM {schema}.churn_model_health
WHERE day < %(day)s AND day >= %(day)s::date - 30 AND auc IS NOT NULL
ORDER BY realised_day, checked_at DESC
