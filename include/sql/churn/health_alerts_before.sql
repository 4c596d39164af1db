-- The problems already announced for this model: those of its latest check before %(day)s (a problem that
-- lasts is announced on its first day only) and of an earlier check of the same day (a rerun announces nothing).
(SELECT alerts FROM {schema}.churn_model_health
 WHERE model_version = %(model_version)s AND day < %(day)s
 ORDER BY day DESC LIMIT 1)
UNION ALL
SELECT alerts FROM {schema}.churn_model_health WHERE model_version = %(model_version)s AND day = %(day)s
