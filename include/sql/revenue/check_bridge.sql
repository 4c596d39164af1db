-- Every day and month of [from_day, day] as stored, checked three ways; returns one row per problem (none: good).
-- 1. daily bridge: mrr(day) = mrr(day before, as stored) + new + reactivation + expansion - contraction - churn
-- 2. monthly bridge; mrr_monthly = the sum of customer_mrr_monthly, whose movements match their values
-- 3. the daily path (change points) and the monthly path (periods at month end) agree at each month end
-- 4. each dimension of mrr_by_dimension_monthly sums to mrr_monthly's MRR, paying customers and movements
WITH daily AS (
    SELECT day, mrr_cents, paying_customers,
           lag(mrr_cents) OVER (ORDER BY day) AS before_cents, lag(day) OVER (ORDER BY day) AS day_before,
           new_cents + reactivation_cents + expansion_cents - contraction_cents - churn_cents AS net_cents
    FROM {schema}.mrr_daily
    WHERE day >= %(from_day)s::date - 1 AND day <= %(day)s::date
), monthly AS (
    SELECT month, mrr_cents, paying_customers,
           lag(mrr_cents) OVER (ORDER BY month) AS before_cents, lag(month) OVER (ORDER BY month) AS month_before,
           net_new_cents,
           new_cents + reactivation_cents + expansion_cents - contraction_cents - churn_cents AS net_cents
    FROM {schema}.mrr_monthly
    WHERE month >= date_trunc('month', %(from_day)s::date) - interval '1 month' AND month <= %(day)s::date
), customers AS (
    SELECT month, sum(mrr_cents) AS mrr_cents, count(*) FILTER (WHERE mrr_cents > 0) AS paying,
           count(*) FILTER (WHERE coalesce(CASE WHEN movement IN ('new', 'reactivation') THEN 'added'
                                                ELSE movement END, 'none')
                                   <> CASE WHEN previous_mrr_cents = 0 AND mrr_cents > 0 THEN 'added'
                                           WHEN previous_mrr_cents > 0 AND mrr_cents = 0 THEN 'churn'
                                           WHEN mrr_cents > previous_mrr_cents THEN 'expansion'
                                           WHEN mrr_cents < previous_mrr_cents THEN 'contraction'
                                           ELSE 'none' END) AS inconsistent_rows
    FROM {schema}.customer_mrr_monthly
    WHERE month >= date_trunc('month', %(from_day)s::date)
    GROUP BY month
), dimensions AS (
    SELECT month, dimension, sum(mrr_cents) AS mrr_cents, sum(paying_customers) AS paying,
           sum(new_cents + reactivation_cents + expansion_cents - contraction_cents - churn_cents) AS net_cents
    FROM {schema}.mrr_by_dimension_monthly
    WHERE month >= date_trunc('month', %(from_day)s::date)
    GROUP BY month, dimension
)
SELECT 'mrr_daily ' || day || ': ' || mrr_cents || ' <> ' || coalesce(before_cents, 0) || ' (day before) + '
       || net_cents || ' (movements)'
FROM daily
WHERE day >= %(from_day)s::date
  AND (mrr_cents <> coalesce(before_cents, 0) + net_cents OR (day_before IS NOT NULL AND day_before <> day - 1)
       OR (day_before IS NULL AND EXISTS (SELECT 1 FROM {schema}.mrr_daily e WHERE e.day < daily.day)))
UNION ALL
SELECT 'mrr_daily has no row for ' || d::date
FROM generate_series(%(from_day)s::date, %(day)s::date, interval '1 day') d
WHERE NOT EXISTS (SELECT 1 FROM {schema}.mrr_daily m WHERE m.day = d::date)
UNION ALL
SELECT 'mrr_monthly ' || month || ': ' || mrr_cents || ' <> ' || coalesce(before_cents, 0)
       || ' (month before) + ' || net_cents || ' (movements)'
FROM monthly
WHERE month >= date_trunc('month', %(from_day)s::date)
  AND (mrr_cents <> coalesce(before_cents, 0) + net_cents OR net_new_cents <> net_cents)
UNION ALL
SELECT 'mrr_monthly ' || m.month || ': ' || m.mrr_cents || ' cents and ' || m.paying_customers
       || ' paying, but customer_mrr_monthly sums to ' || coalesce(c.mrr_cents, 0) || ' and '
       || coalesce(c.paying, 0) || ', with ' || coalesce(c.inconsistent_rows, 0) || ' inconsistent row(s)'
FROM monthly m LEFT JOIN customers c USING (month)
WHERE m.month >= date_trunc('month', %(from_day)s::date)
  AND (m.mrr_cents <> coalesce(c.mrr_cents, 0) OR m.paying_customers <> coalesce(c.paying, 0)
       OR coalesce(c.inconsistent_rows, 0) > 0)
UNION ALL
SELECT 'month ' || m.month || ' ends with ' || m.mrr_cents || ' cents, ' || m.paying_customers
       || ' paying in mrr_monthly but ' || coalesce(d.mrr_cents, 0) || ', ' || coalesce(d.paying_customers, 0)
       || ' in mrr_daily on ' || least((m.month + interval '1 month - 1 day')::date, %(day)s::date)
FROM monthly m
LEFT JOIN {schema}.mrr_daily d ON d.day = least((m.month + interval '1 month - 1 day')::date, %(day)s::date)
WHERE m.month >= date_trunc('month', %(from_day)s::date)
  AND (d.day IS NULL AND m.mrr_cents <> 0 OR d.mrr_cents <> m.mrr_cents OR d.paying_customers <> m.paying_customers)
UNION ALL
SELECT 'mrr_by_dimension_monthly ' || m.month || ' by ' || d.dimension || ': ' || coalesce(x.mrr_cents, 0)
       || ' cents, ' || coalesce(x.paying, 0) || ' paying, ' || coalesce(x.net_cents, 0) || ' net new, but '
       || m.mrr_cents || ', ' || m.paying_customers || ', ' || m.net_cents || ' in mrr_monthly'
FROM monthly m
CROSS JOIN (VALUES ('plan'), ('billing_interval'), ('segment'), ('country')) d (dimension)
LEFT JOIN dimensions x ON x.month = m.month AND x.dimension = d.dimension
WHERE m.month >= date_trunc('month', %(from_day)s::date)
  AND (coalesce(x.mrr_cents, 0) <> m.mrr_cents OR coalesce(x.paying, 0) <> m.paying_customers
       OR coalesce(x.net_cents, 0) <> m.net_cents)
ORDER BY 1
LIMIT 50
