-- customer_mrr_monthly and mrr_monthly for the months [month(S), month(E)]. Month-end MRR is valued
-- directly from the periods in force at each month's last day (E for the current month), at that day's
-- rate: an independent path from the daily change points, which check_bridge.sql compares. The month
-- before the window (P's) is read back as stored: the run does not rewrite it.
--
-- A daily run inside one month (%(reuses_month_rows)s) read only the customers whose MRR can have moved
-- since the stored month rows were valued (mrr_affected); it rewrites their rows and keeps the others.

CREATE TEMP TABLE mrr_affected ON COMMIT DROP AS
SELECT DISTINCT customer_id FROM mrr_raw_periods WHERE customer_id IS NOT NULL;
ANALYZE mrr_affected;

-- Positive month-end MRR per customer, for P's month (as stored) .. month(E).
CREATE TEMP TABLE mrr_month_values ON COMMIT DROP AS
SELECT p.customer_id, m.month, sum(round(p.mrr_num * f.rate / p.mrr_den))::bigint AS mrr_cents
FROM mrr_periods p
CROSS JOIN LATERAL (
    SELECT g::date AS month, least((g + interval '1 month - 1 day')::date, %(e_day)s::date) AS month_end
    FROM generate_series(date_trunc('month', greatest(p.first_day, %(s_day)s::date)),
                         date_trunc('month', least(p.end_day - 1, %(e_day)s::date)), interval '1 month') g
) m
JOIN mrr_fx_daily f ON f.currency = p.currency AND f.day = m.month_end
WHERE p.first_day <= m.month_end AND m.month_end < p.end_day
GROUP BY p.customer_id, m.month
HAVING sum(round(p.mrr_num * f.rate / p.mrr_den)) > 0
UNION ALL
SELECT customer_id, month, mrr_cents
FROM {schema}.customer_mrr_monthly
WHERE month = date_trunc('month', %(p_day)s::date) AND mrr_cents > 0
  AND (NOT %(reuses_month_rows)s OR customer_id IN (SELECT customer_id FROM mrr_affected));

-- Each customer's month end against the month end before it: rows where either is positive. One pass
-- over the values in customer order gives both a month with MRR and, after a customer's last month in a
-- run of months, the churn in the month that follows.
CREATE TEMP TABLE mrr_customer_months ON COMMIT DROP AS
WITH v AS (
    SELECT customer_id, month, mrr_cents,
           CASE WHEN lag(month) OVER w = (month - interval '1 month')::date THEN lag(mrr_cents) OVER w ELSE 0 END
               AS previous_cents,
           row_number() OVER w > 1 AS paid_earlier,
           lead(month) OVER w AS following
    FROM mrr_month_values
    WINDOW w AS (PARTITION BY customer_id ORDER BY month)
)
SELECT customer_id, month, mrr_cents, previous_cents,
       {schema}.mrr_movement(previous_cents, mrr_cents, paid_before) AS movement
FROM (
    SELECT v.customer_id, v.month, v.mrr_cents, v.previous_cents,
           v.paid_earlier OR coalesce(s.first_paid_month < date_trunc('month', %(s_day)s::date)::date, false)
               AS paid_before
    FROM v LEFT JOIN {schema}.mrr_customer_first_paid s USING (customer_id)
    WHERE v.month >= date_trunc('month', %(s_day)s::date)  -- P's month only served as "the month before"
    UNION ALL
    SELECT customer_id, (month + interval '1 month')::date, 0, mrr_cents, true
    FROM v
    WHERE (month + interval '1 month')::date IS DISTINCT FROM following
      AND (month + interval '1 month')::date <= %(e_day)s::date
) m;

-- Replace the window's months, writing only the rows that differ: a daily run recomputes the current
-- month for every customer it read, but few of them changed since yesterday.
ANALYZE mrr_customer_months;
DELETE FROM {schema}.customer_mrr_monthly t
WHERE t.month >= date_trunc('month', %(s_day)s::date)
  AND (NOT %(reuses_month_rows)s OR t.customer_id IN (SELECT customer_id FROM mrr_affected))
  AND NOT EXISTS (SELECT 1 FROM mrr_customer_months n WHERE n.month = t.month AND n.customer_id = t.customer_id);
MERGE INTO {schema}.customer_mrr_monthly t
USING mrr_customer_months n  -- the month bound lets the join read only the window's months of the table
    ON t.month = n.month AND t.customer_id = n.customer_id AND t.month >= date_trunc('month', %(s_day)s::date)
WHEN MATCHED AND (t.mrr_cents, t.previous_mrr_cents, t.movement)
                 IS DISTINCT FROM (n.mrr_cents, n.previous_cents, n.movement) THEN
    UPDATE SET mrr_cents = n.mrr_cents, previous_mrr_cents = n.previous_cents, movement = n.movement
WHEN NOT MATCHED THEN
    INSERT (month, customer_id, mrr_cents, previous_mrr_cents, movement)
    VALUES (n.month, n.customer_id, n.mrr_cents, n.previous_cents, n.movement);

DELETE FROM {schema}.mrr_monthly WHERE month >= date_trunc('month', %(s_day)s::date);

-- Summed from the stored rows (the kept ones too). Rates over the customers paying at the month's start
-- (the previous month end); null without any.
INSERT INTO {schema}.mrr_monthly (month, mrr_cents, arr_cents, paying_customers, arpa_cents, new_cents,
                                  expansion_cents, contraction_cents, churn_cents, reactivation_cents,
                                  net_new_cents, logo_churn_rate, gross_mrr_churn_rate, nrr, grr)
SELECT month, mrr_cents, mrr_cents * 12, paying, round(mrr_cents::numeric / nullif(paying, 0))::bigint,
       new_cents, expansion_cents, contraction_cents, churn_cents, reactivation_cents,
       new_cents + reactivation_cents + expansion_cents - contraction_cents - churn_cents,
       round(churned::numeric / nullif(paying_at_start, 0), 6),
       round((churn_cents + contraction_cents)::numeric / nullif(mrr_at_start, 0), 6),
       round(retained_mrr::numeric / nullif(mrr_at_start, 0), 6),
       round(1 - (churn_cents + contraction_cents)::numeric / nullif(mrr_at_start, 0), 6)
FROM (
    SELECT g::date AS month,
           coalesce(sum(c.mrr_cents), 0) AS mrr_cents,
           count(*) FILTER (WHERE c.mrr_cents > 0) AS paying,
           coalesce(sum(c.mrr_cents) FILTER (WHERE c.movement = 'new'), 0) AS new_cents,
           coalesce(sum(c.mrr_cents - c.previous_mrr_cents) FILTER (WHERE c.movement = 'expansion'), 0) AS expansion_cents,
           coalesce(sum(c.previous_mrr_cents - c.mrr_cents) FILTER (WHERE c.movement = 'contraction'), 0)
               AS contraction_cents,
           coalesce(sum(c.previous_mrr_cents) FILTER (WHERE c.movement = 'churn'), 0) AS churn_cents,
           coalesce(sum(c.mrr_cents) FILTER (WHERE c.movement = 'reactivation'), 0) AS reactivation_cents,
           count(*) FILTER (WHERE c.movement = 'churn') AS churned,
           count(*) FILTER (WHERE c.previous_mrr_cents > 0) AS paying_at_start,
           coalesce(sum(c.previous_mrr_cents), 0) AS mrr_at_start,
           -- NRR: what the customers paying at the start pay at the end (expansion, contraction, churn)
           coalesce(sum(c.mrr_cents) FILTER (WHERE c.previous_mrr_cents > 0), 0) AS retained_mrr
    FROM generate_series(date_trunc('month', %(s_day)s::date), date_trunc('month', %(e_day)s::date),
                         interval '1 month') g
    LEFT JOIN {schema}.customer_mrr_monthly c ON c.month = g::date
    GROUP BY g
) t;
