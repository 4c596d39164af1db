-- The model-health part of the churn section: churn_model_health's last 90 days, the newest check of each day.
SELECT DISTINCT ON (day) day, model_version, realised_day, auc, auc_7d, auc_30d, lift_top_decile, calibration_error,
       calibration, psi, top_signals, alerts
FROM {schema}.churn_model_health
WHERE day > (SELECT max(day) FROM {schema}.churn_model_health) - 90
ORDER BY day, checked_at DESC
