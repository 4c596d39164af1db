-- The revenue section: the selected month's MRR by plan, billing interval, segment and country, largest first.
SELECT dimension, value, mrr_cents, paying_customers,
       new_cents + reactivation_cents + expansion_cents - contraction_cents - churn_cents
FROM {schema}.mrr_by_dimension_monthly
WHERE month = %(month)s::date
ORDER BY array_position(ARRAY['plan', 'billing_interval', 'segment', 'country'], dimension), mrr_cents DESC,
         value
