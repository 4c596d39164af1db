-- mrr_monthly's further figures (SPEC "Quick ratio", "LTV", "Trial conversion", "CAC") for every month from
-- %(metrics_from)s: the months this run wrote, those whose trials may have converted since, those never filled.

-- A trial converted when its customer has MRR on one of the days from its end through %(trial_days)s after:
-- MRR at the end of that first day, or a change to MRR within the days after (customer_mrr_changes, just written;
-- copied for the trials' customers, as a full refresh builds that table's indexes only at its end).
CREATE TEMP TABLE mrr_trial_changes ON COMMIT DROP AS
SELECT c.customer_id, c.day, c.mrr_cents
FROM {schema}.customer_mrr_changes c
WHERE c.customer_id IN (SELECT customer_id FROM mrr_trials_ended);
CREATE INDEX ON mrr_trial_changes (customer_id, day);
ANALYZE mrr_trial_changes;
CREATE TEMP TABLE mrr_trial_months ON COMMIT DROP AS
SELECT date_trunc('month', t.ended_day)::date AS month, count(*) AS ended,
       count(*) FILTER (WHERE
           coalesce((SELECT c.mrr_cents FROM mrr_trial_changes c
                     WHERE c.customer_id = t.customer_id AND c.day <= t.ended_day
                     ORDER BY c.day DESC LIMIT 1), 0) > 0
           OR EXISTS (SELECT 1 FROM mrr_trial_changes c
                      WHERE c.customer_id = t.customer_id AND c.day > t.ended_day
                        AND c.day <= t.ended_day + %(trial_days)s AND c.mrr_cents > 0)) AS converted
FROM mrr_trials_ended t
GROUP BY 1;

-- Spend in the reporting currency at each currency's rate of the month's last day (the run's day for its
-- month); a month with a currency that has no rate yet gets none.
CREATE TEMP TABLE mrr_spend_months ON COMMIT DROP AS
SELECT s.month, round(sum(s.amount_cents * r.rate)) AS cents, bool_and(r.rate IS NOT NULL) AS priced
FROM mrr_spend s
LEFT JOIN LATERAL (
    SELECT CASE WHEN s.currency = %(reporting)s THEN 1 ELSE (
        SELECT f.rate FROM {schema}.mrr_fx_rates f
        WHERE f.currency = s.currency
          AND f.rate_date <= least((s.month + interval '1 month - 1 day')::date, %(day)s::date)
        ORDER BY f.rate_date DESC LIMIT 1) END AS rate
) r ON true
GROUP BY s.month;

UPDATE {schema}.mrr_monthly m
SET trials_ended = coalesce(t.ended, 0),
    trials_converted = coalesce(t.converted, 0),
    trial_conversion_rate = round(t.converted::numeric / nullif(t.ended, 0), 6),
    acquisition_spend_cents = CASE WHEN s.priced THEN s.cents END,
    cac_cents = CASE WHEN s.priced THEN round(s.cents / nullif(m.new_customers, 0)) END,
    quick_ratio = round((m.new_cents + m.reactivation_cents + m.expansion_cents)::numeric
                        / nullif(m.contraction_cents + m.churn_cents, 0), 6),
    ltv_cents = round(m.arpa_cents * %(gross_margin)s::numeric / nullif(
        (SELECT avg(b.logo_churn_rate) FROM {schema}.mrr_monthly b
         WHERE b.month BETWEEN m.month - interval '2 months' AND m.month), 0))
FROM {schema}.mrr_monthly m2
LEFT JOIN mrr_trial_months t ON t.month = m2.month
LEFT JOIN mrr_spend_months s ON s.month = m2.month
WHERE m2.month = m.month AND m.month >= %(metrics_from)s;
