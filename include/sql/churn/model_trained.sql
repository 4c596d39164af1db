-- A trained model: recorded as a challenger, or as the new champion (the old one retires).
UPDATE {schema}.churn_models SET is_champion = false, status = 'retired' WHERE is_champion AND %(promote)s;

INSERT INTO {schema}.churn_models (model_version, trained_at, training_window, metrics, artifact_uri, is_champion,
                                   status, decision, evaluation_window, horizon_days, artifact_sha256,
                                   sklearn_version, card_uri)
VALUES (%(model_version)s, now(), daterange(%(training_from)s, %(training_to)s, '[]'), %(metrics)s,
        %(artifact_uri)s, %(promote)s, %(status)s, %(decision)s,
        daterange(%(evaluation_from)s, %(evaluation_to)s, '[]'), %(horizon_days)s, %(artifact_sha256)s,
        %(sklearn_version)s, %(card_uri)s)
