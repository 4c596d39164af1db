-- inactive_30/60/90 and win_back succeed when the recipient is active again (any valid event) on a day in
-- (cohort day, cohort day + window].
SELECT r.idempotency_key,
       EXISTS (SELECT 1 FROM {schema}.user_activity_daily a
               WHERE a.user_id = r.user_id AND a.day > r.day AND a.day <= r.day + %(window_days)s)
FROM camp_outcome_recipients r
