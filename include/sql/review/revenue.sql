-- The week's revenue: MRR at its last day and the day before it began, paying customers, the week's movements.
SELECT (SELECT mrr_cents FROM {schema}.mrr_daily WHERE day = %(week_end)s),
       (SELECT mrr_cents FROM {schema}.mrr_daily WHERE day = %(week_start)s::date - 1),
       (SELECT paying_customers FROM {schema}.mrr_daily WHERE day = %(week_end)s),
       sum(new_cents), sum(expansion_cents), sum(contraction_cents), sum(churn_cents), sum(reactivation_cents)
FROM {schema}.mrr_daily
WHERE day BETWEEN %(week_start)s AND %(week_end)s
