-- low_adoption succeeds when the account uses, in (cohort day, cohort day + window], a core feature it had not
-- used in the 30 days to the cohort day (the days the audience looked at).
SELECT r.idempotency_key,
       EXISTS (SELECT 1 FROM {schema}.account_feature_daily f
               WHERE f.customer_id = r.customer_id AND f.feature = ANY(%(features)s::text[])
                 AND f.day > r.day AND f.day <= r.day + %(window_days)s
                 AND NOT EXISTS (SELECT 1 FROM {schema}.account_feature_daily b
                                 WHERE b.customer_id = f.customer_id AND b.feature = f.feature
                                   AND b.day > r.day - 30 AND b.day <= r.day))
FROM camp_outcome_recipients r
