-- The latest month that ended by the week's last day: its rates.
SELECT month, nrr::float, grr::float, logo_churn_rate::float, quick_ratio::float, ltv_cents
FROM {schema}.mrr_monthly
WHERE month + interval '1 month' <= %(week_end)s::date + 1
ORDER BY month DESC
LIMIT 1
