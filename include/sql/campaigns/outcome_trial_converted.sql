-- trial_ending succeeds when the account starts paying (its MRR goes from 0 to more) on a day in
-- (cohort day, cohort day + window].
SELECT r.idempotency_key,
       EXISTS (SELECT 1 FROM {schema}.customer_mrr_changes c
               WHERE c.customer_id = r.customer_id AND c.movement IN ('new', 'reactivation')
                 AND c.day > r.day AND c.day <= r.day + %(window_days)s)
FROM camp_outcome_recipients r
