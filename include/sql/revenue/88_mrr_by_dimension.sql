-- mrr_by_dimension_monthly's segment and country rows for the months this run wrote: customer_mrr_monthly's
-- month ends and movements summed by the customer's value as saas_db has it now ('(none)' without one).
DELETE FROM {schema}.mrr_by_dimension_monthly
WHERE dimension IN ('segment', 'country') AND month >= date_trunc('month', %(written_from)s::date);
INSERT INTO {schema}.mrr_by_dimension_monthly (month, dimension, value, mrr_cents, paying_customers, new_cents,
                                               expansion_cents, contraction_cents, churn_cents, reactivation_cents)
SELECT c.month, d.dimension, coalesce(nullif(btrim(d.value), ''), '(none)'),
       sum(c.mrr_cents), count(*) FILTER (WHERE c.mrr_cents > 0),
       coalesce(sum(c.mrr_cents) FILTER (WHERE c.movement = 'new'), 0),
       coalesce(sum(c.mrr_cents - c.previous_mrr_cents) FILTER (WHERE c.movement = 'expansion'), 0),
       coalesce(sum(c.previous_mrr_cents - c.mrr_cents) FILTER (WHERE c.movement = 'contraction'), 0),
       coalesce(sum(c.previous_mrr_cents) FILTER (WHERE c.movement = 'churn'), 0),
       coalesce(sum(c.mrr_cents) FILTER (WHERE c.movement = 'reactivation'), 0)
FROM {schema}.customer_mrr_monthly c
LEFT JOIN mrr_customer_dimensions a USING (customer_id)
CROSS JOIN LATERAL (VALUES ('segment', a.segment), ('country', a.country)) d (dimension, value)
WHERE c.month >= date_trunc('month', %(written_from)s::date) AND (c.mrr_cents > 0 OR c.previous_mrr_cents > 0)
GROUP BY 1, 2, 3;
