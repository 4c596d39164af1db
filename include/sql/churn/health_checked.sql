-- The day's model-health check, replacing an earlier check of the same day and model (a rerun).
DELETE FROM {schema}.churn_model_health WHERE day = %(day)s AND model_version = %(model_version)s;
INSERT INTO {schema}.churn_model_health
    (day, model_version, realised_day, realised_model_versions, accounts, churned, auc, lift_top_decile,
     calibration_error, calibration, auc_7d, auc_30d, churned_7d, psi, top_signals, alerts, recommendation)
VALUES (%(day)s, %(model_version)s, %(realised_day)s, %(realised_model_versions)s, %(accounts)s, %(churned)s,
        %(auc)s, %(lift_top_decile)s, %(calibration_error)s, %(calibration)s, %(auc_7d)s, %(auc_30d)s,
        %(churned_7d)s, %(psi)s, %(top_signals)s, %(alerts)s, %(recommendation)s);
