-- mrr_monthly: each month's sums moved by the customer rows this run rewrote (the stored ones taken out, the new
-- ones put in: rows that did not change cancel out), then its figures from the sums (SPEC "Rates": over the customers paying at the start of the month; null
-- without any). Every month from the first day written to the day has a row, with customers or not;
-- none before the first day any subscription period starts.
DELETE FROM {schema}.mrr_monthly WHERE month < date_trunc('month', %(earliest)s::date);
INSERT INTO {schema}.mrr_monthly AS t (month, mrr_cents, arr_cents, paying_customers, new_cents, expansion_cents,
                                       contraction_cents, churn_cents, reactivation_cents, net_new_cents,
                                       churned_customers, paying_at_start, mrr_at_start_cents, retained_mrr_cents,
                                       new_customers)
SELECT month,
       coalesce(sum(sign * mrr_cents), 0),
       0,
       coalesce(sum(sign) FILTER (WHERE mrr_cents > 0), 0),
       coalesce(sum(sign * mrr_cents) FILTER (WHERE movement = 'new'), 0),
       coalesce(sum(sign * (mrr_cents - previous_mrr_cents)) FILTER (WHERE movement = 'expansion'), 0),
       coalesce(sum(sign * (previous_mrr_cents - mrr_cents)) FILTER (WHERE movement = 'contraction'), 0),
       coalesce(sum(sign * previous_mrr_cents) FILTER (WHERE movement = 'churn'), 0),
       coalesce(sum(sign * mrr_cents) FILTER (WHERE movement = 'reactivation'), 0),
       0,
       coalesce(sum(sign) FILTER (WHERE movement = 'churn'), 0),
       coalesce(sum(sign) FILTER (WHERE previous_mrr_cents > 0), 0),
       coalesce(sum(sign * previous_mrr_cents), 0),
       -- NRR: what the customers paying at the start pay at the end (expansion, contraction, churn)
       coalesce(sum(sign * mrr_cents) FILTER (WHERE previous_mrr_cents > 0), 0),
       coalesce(sum(sign) FILTER (WHERE movement = 'new'), 0)
FROM (SELECT 1 AS sign, month, mrr_cents, previous_cents AS previous_mrr_cents, movement FROM mrr_month_rows
      UNION ALL
      SELECT -1, month, mrr_cents, previous_mrr_cents, movement FROM mrr_month_stored WHERE replaced
      UNION ALL
      SELECT 0, g::date, 0, 0, NULL
      FROM generate_series(date_trunc('month', %(written_from)s::date), date_trunc('month', %(day)s::date),
                           interval '1 month') g) c
GROUP BY month
ON CONFLICT (month) DO UPDATE SET
    mrr_cents = t.mrr_cents + excluded.mrr_cents,
    paying_customers = t.paying_customers + excluded.paying_customers,
    new_cents = t.new_cents + excluded.new_cents,
    expansion_cents = t.expansion_cents + excluded.expansion_cents,
    contraction_cents = t.contraction_cents + excluded.contraction_cents,
    churn_cents = t.churn_cents + excluded.churn_cents,
    reactivation_cents = t.reactivation_cents + excluded.reactivation_cents,
    churned_customers = t.churned_customers + excluded.churned_customers,
    paying_at_start = t.paying_at_start + excluded.paying_at_start,
    mrr_at_start_cents = t.mrr_at_start_cents + excluded.mrr_at_start_cents,
    retained_mrr_cents = t.retained_mrr_cents + excluded.retained_mrr_cents,
    new_customers = t.new_customers + excluded.new_customers;

UPDATE {schema}.mrr_monthly
SET arr_cents = mrr_cents * 12,
    arpa_cents = round(mrr_cents::numeric / nullif(paying_customers, 0))::bigint,
    net_new_cents = new_cents + reactivation_cents + expansion_cents - contraction_cents - churn_cents,
    logo_churn_rate = round(churned_customers::numeric / nullif(paying_at_start, 0), 6),
    gross_mrr_churn_rate = round((churn_cents + contraction_cents)::numeric / nullif(mrr_at_start_cents, 0), 6),
    nrr = round(retained_mrr_cents::numeric / nullif(mrr_at_start_cents, 0), 6),
    grr = round(1 - (churn_cents + contraction_cents)::numeric / nullif(mrr_at_start_cents, 0), 6)
WHERE month >= date_trunc('month', %(written_from)s::date);
