-- mrr_by_dimension_monthly moved by the customer rows this run rewrote, as 82_mrr_monthly.sql moves mrr_monthly:
-- each new row put in under the plan, billing interval, segment and country it counts under (80_month_rows.sql),
-- each replaced row taken out under those it was stored with; a value left with nothing is removed.
INSERT INTO {schema}.mrr_by_dimension_monthly AS t (month, dimension, value, mrr_cents, paying_customers, new_cents,
                                                    expansion_cents, contraction_cents, churn_cents, reactivation_cents)
SELECT c.month, d.dimension, d.value,
       sum(c.sign * c.mrr_cents), coalesce(sum(c.sign) FILTER (WHERE c.mrr_cents > 0), 0),
       coalesce(sum(c.sign * c.mrr_cents) FILTER (WHERE c.movement = 'new'), 0),
       coalesce(sum(c.sign * (c.mrr_cents - c.previous_mrr_cents)) FILTER (WHERE c.movement = 'expansion'), 0),
       coalesce(sum(c.sign * (c.previous_mrr_cents - c.mrr_cents)) FILTER (WHERE c.movement = 'contraction'), 0),
       coalesce(sum(c.sign * c.previous_mrr_cents) FILTER (WHERE c.movement = 'churn'), 0),
       coalesce(sum(c.sign * c.mrr_cents) FILTER (WHERE c.movement = 'reactivation'), 0)
FROM (SELECT 1 AS sign, r.month, r.mrr_cents, r.previous_cents AS previous_mrr_cents, r.movement, d.plan_id,
             d.billing_interval, d.segment, d.country
      FROM mrr_month_rows r JOIN mrr_month_dimensions d USING (month, customer_id)
      UNION ALL
      SELECT -1, month, mrr_cents, previous_mrr_cents, movement, plan_id, billing_interval, segment, country
      FROM mrr_month_stored WHERE replaced) c
CROSS JOIN LATERAL (VALUES ('plan', c.plan_id), ('billing_interval', c.billing_interval), ('segment', c.segment),
                           ('country', c.country)) d (dimension, value)
GROUP BY 1, 2, 3
ON CONFLICT (month, dimension, value) DO UPDATE SET
    mrr_cents = t.mrr_cents + excluded.mrr_cents,
    paying_customers = t.paying_customers + excluded.paying_customers,
    new_cents = t.new_cents + excluded.new_cents,
    expansion_cents = t.expansion_cents + excluded.expansion_cents,
    contraction_cents = t.contraction_cents + excluded.contraction_cents,
    churn_cents = t.churn_cents + excluded.churn_cents,
    reactivation_cents = t.reactivation_cents + excluded.reactivation_cents;

DELETE FROM {schema}.mrr_by_dimension_monthly
WHERE month >= date_trunc('month', %(written_from)s::date)
  AND (mrr_cents, paying_customers, new_cents, expansion_cents, contraction_cents, churn_cents, reactivation_cents)
      = (0, 0, 0, 0, 0, 0, 0);
