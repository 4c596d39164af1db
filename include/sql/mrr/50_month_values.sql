-- customer_mrr_monthly's rows for the months [month(S), month(E)], as mrr_customer_months (written by
-- 55_write_months.sql). Month-end MRR is valued directly from the periods in force at each month's last
-- day (E for the current month), at that day's rate: an independent path from the daily change points,
-- which check_bridge.sql compares. The month before the window (P's) is read back as stored: the run does
-- not rewrite it. A daily run inside one month uses 50_month_values_one_month.sql instead.

-- Each month end of the window with each currency's rate on that day: joined to the periods by an index,
-- several months per period (at 100k customers 0.8 s, against 1.6 s for generating each period's months
-- and hashing every (currency, day) into mrr_work_fx_daily).
CREATE TEMP TABLE mrr_month_ends ON COMMIT DROP AS
SELECT f.currency, m.month, m.month_end, f.rate
FROM (SELECT g::date AS month, least((g + interval '1 month - 1 day')::date, %(e_day)s::date) AS month_end
      FROM generate_series(date_trunc('month', %(s_day)s::date), date_trunc('month', %(e_day)s::date),
                           interval '1 month') g) m
JOIN {schema}.mrr_work_fx_daily f ON f.day = m.month_end;
CREATE INDEX ON mrr_month_ends (currency, month_end);
ANALYZE mrr_month_ends;

-- One sort in (customer, month) order serves both windows: the sum of a customer's periods in force at a
-- month end, then each month against the one before. (A GROUP BY would hash a million groups first and
-- sort them again: measured at 100k customers, 6.3 s against 3.9 s.) mrr_work_periods is stored in customer
-- order, so the sort mostly finds its input in order already.
CREATE TEMP TABLE mrr_customer_months ON COMMIT DROP AS
WITH month_values AS (  -- positive month-end MRR per customer, for P's month (as stored) .. month(E)
    SELECT customer_id, month, mrr_cents
    FROM (
        SELECT customer_id, month, (sum(cents) OVER customer_month)::bigint AS mrr_cents,
               row_number() OVER customer_month AS nth
        FROM (
            SELECT p.customer_id, m.month, round(p.mrr_num * m.rate / p.mrr_den)::bigint AS cents
            FROM {schema}.mrr_work_periods p
            JOIN mrr_month_ends m ON m.currency = p.currency AND p.first_day <= m.month_end AND m.month_end < p.end_day
            UNION ALL
            SELECT customer_id, month, mrr_cents
            FROM {schema}.customer_mrr_monthly
            WHERE month = date_trunc('month', %(p_day)s::date) AND mrr_cents > 0
        ) period_values
        WINDOW customer_month AS (PARTITION BY customer_id, month)
    ) summed
    WHERE nth = 1 AND mrr_cents > 0
), v AS (
    SELECT customer_id, month, mrr_cents,
           CASE WHEN lag(month) OVER w = (month - interval '1 month')::date THEN lag(mrr_cents) OVER w ELSE 0 END
               AS previous_cents,
           row_number() OVER w > 1 AS paid_earlier,
           lead(month) OVER w AS following
    FROM month_values
    WINDOW w AS (PARTITION BY customer_id ORDER BY month)
)
-- Each customer's month end against the month end before it: rows where either is positive. After a
-- customer's last month in a run of months, the churn in the month that follows.
SELECT customer_id, month, mrr_cents, previous_cents,
       {schema}.mrr_movement(previous_cents, mrr_cents, paid_before) AS movement
FROM (
    SELECT v.customer_id, v.month, v.mrr_cents, v.previous_cents,
           v.paid_earlier OR coalesce(s.first_paid_month < date_trunc('month', %(s_day)s::date)::date, false)
               AS paid_before
    FROM v
    LEFT JOIN {schema}.mrr_customer_first_paid s  -- stored firsts; a full refresh forgets them (see mrr.build)
        ON s.customer_id = v.customer_id AND NOT %(full_refresh)s
    WHERE v.month >= date_trunc('month', %(s_day)s::date)  -- P's month only served as "the month before"
    UNION ALL
    SELECT customer_id, (month + interval '1 month')::date, 0, mrr_cents, true
    FROM v
    WHERE (month + interval '1 month')::date IS DISTINCT FROM following
      AND (month + interval '1 month')::date <= %(e_day)s::date
) m;
