-- mrr_by_dimension_monthly for the months this run wrote: customer_mrr_monthly's month ends and movements summed
-- by the customer's plan, billing interval, segment and country ('(none)' without one). Plan and interval are
-- those of the customer's largest paying period in force at the month end (at the month end before, for a
-- customer who churned), so a customer who changes plan moves to the new one with all of its MRR; segment and
-- country are as saas_db has them now.
CREATE TEMP TABLE mrr_dimension_rows ON COMMIT DROP AS
SELECT month, customer_id, mrr_cents, previous_mrr_cents, movement,
       CASE WHEN mrr_cents > 0 THEN least((month + interval '1 month - 1 day')::date, %(day)s::date)
            ELSE month - 1 END AS at_day
FROM {schema}.customer_mrr_monthly
WHERE month >= date_trunc('month', %(written_from)s::date) AND (mrr_cents > 0 OR previous_mrr_cents > 0);
-- A join on customer_id, not a lookup per row: a full refresh builds mrr_paying_periods' indexes only at its end.
CREATE TEMP TABLE mrr_dimension_plans ON COMMIT DROP AS
SELECT DISTINCT ON (r.month, r.customer_id) r.month, r.customer_id, p.plan_id, p.billing_interval
FROM mrr_dimension_rows r
JOIN {schema}.mrr_paying_periods p
  ON p.customer_id = r.customer_id AND p.first_day <= r.at_day AND (p.end_day IS NULL OR p.end_day > r.at_day)
ORDER BY r.month, r.customer_id, p.mrr_num / p.mrr_den DESC, p.plan_id;

DELETE FROM {schema}.mrr_by_dimension_monthly WHERE month >= date_trunc('month', %(written_from)s::date);
INSERT INTO {schema}.mrr_by_dimension_monthly (month, dimension, value, mrr_cents, paying_customers, new_cents,
                                               expansion_cents, contraction_cents, churn_cents, reactivation_cents)
SELECT r.month, d.dimension, coalesce(nullif(btrim(d.value), ''), '(none)'),
       sum(r.mrr_cents), count(*) FILTER (WHERE r.mrr_cents > 0),
       coalesce(sum(r.mrr_cents) FILTER (WHERE r.movement = 'new'), 0),
       coalesce(sum(r.mrr_cents - r.previous_mrr_cents) FILTER (WHERE r.movement = 'expansion'), 0),
       coalesce(sum(r.previous_mrr_cents - r.mrr_cents) FILTER (WHERE r.movement = 'contraction'), 0),
       coalesce(sum(r.previous_mrr_cents) FILTER (WHERE r.movement = 'churn'), 0),
       coalesce(sum(r.mrr_cents) FILTER (WHERE r.movement = 'reactivation'), 0)
FROM mrr_dimension_rows r
LEFT JOIN mrr_dimension_plans p USING (month, customer_id)
LEFT JOIN mrr_customer_dimensions a USING (customer_id)
CROSS JOIN LATERAL (VALUES ('plan', p.plan_id), ('billing_interval', p.billing_interval), ('segment', a.segment),
                           ('country', a.country)) d (dimension, value)
GROUP BY 1, 2, 3;
