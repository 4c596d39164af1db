-- The churn section: the champion model, and the last day it scored.
SELECT model_version, metrics, (SELECT max(day) FROM {schema}.churn_scores)
FROM {schema}.churn_models
WHERE is_champion
