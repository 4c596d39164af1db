-- The champion model: the one churn_score scores with.
SELECT model_version, artifact_uri, artifact_sha256, sklearn_version FROM {schema}.churn_models WHERE is_champion
