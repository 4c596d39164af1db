-- The revenue section: every month's figures, oldest first.
SELECT to_char(month, 'YYYY-MM'), mrr_cents, arr_cents, paying_customers, arpa_cents, new_cents, expansion_cents,
       contraction_cents, churn_cents, reactivation_cents, net_new_cents, logo_churn_rate::float,
       gross_mrr_churn_rate::float, nrr::float, grr::float, new_customers, quick_ratio::float, ltv_cents,
       trials_ended, trials_converted, trial_conversion_rate::float, cac_cents
FROM {schema}.mrr_monthly
ORDER BY month
