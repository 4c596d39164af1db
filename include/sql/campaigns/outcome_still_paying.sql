-- high_risk succeeds ("saved") when the account has not churned (MRR to 0) by cohort day + window.
SELECT r.idempotency_key,
       NOT EXISTS (SELECT 1 FROM {schema}.customer_mrr_changes c
                   WHERE c.customer_id = r.customer_id AND c.movement = 'churn'
                     AND c.day > r.day AND c.day <= r.day + %(window_days)s)
FROM camp_outcome_recipients r
