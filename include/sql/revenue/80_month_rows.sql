-- The month rows this run rewrites, into mrr_month_rows: month-end MRR (SPEC: on the month's last day, the
-- current month on the day the run closes), valued straight from the periods of the last movements pass at
-- that day's rate, and the movement against the month end before. A path independent of the daily movements:
-- check_bridge.sql compares the two.

-- Whose rows, from which month: the customers of the last movements pass, which valued every customer whose
-- month rows change (restated ones from their from_day's month, everyone else from the first new day's).
CREATE TEMP TABLE mrr_month_scope ON COMMIT DROP AS
SELECT s.customer_id, date_trunc('month', s.from_day)::date AS from_month,
       -- paid at a month end before its first month rewritten: back at a later month end is a reactivation
       coalesce(f.first_paid_month < date_trunc('month', s.from_day), false) AS paid_before
FROM mrr_pass_scope s
LEFT JOIN {schema}.mrr_customer_first_paid f USING (customer_id);
ALTER TABLE mrr_month_scope ADD PRIMARY KEY (customer_id);
ANALYZE mrr_month_scope;

-- Their stored rows, from the month before their from month: what the new rows replace (81, 82), and the
-- month end each first new row is compared with. Those rewritten for the day's month only (a daily
-- run's many) are read by the months of the table's key they reach: that month, and the month before only when
-- the new days start the month (otherwise its rows carry the month end before as previous_mrr_cents); the
-- others (a restatement's few), month by month by their key. A full refresh emptied the table.
CREATE TEMP TABLE mrr_month_stored ON COMMIT DROP AS
SELECT c.month, c.customer_id, c.mrr_cents, c.previous_mrr_cents, c.movement, c.month >= s.from_month AS replaced,
       c.plan_id, c.billing_interval, c.segment, c.country
FROM mrr_month_scope s
JOIN {schema}.customer_mrr_monthly c ON c.customer_id = s.customer_id
WHERE s.from_month = date_trunc('month', %(day)s::date)
  AND c.month BETWEEN (date_trunc('month', %(day)s::date)
                       - CASE WHEN %(whole_month)s THEN interval '1 month' ELSE interval '0' END)::date
                  AND date_trunc('month', %(day)s::date)::date;
INSERT INTO mrr_month_stored
SELECT c.month, c.customer_id, c.mrr_cents, c.previous_mrr_cents, c.movement, c.month >= s.from_month,
       c.plan_id, c.billing_interval, c.segment, c.country
FROM mrr_month_scope s
CROSS JOIN generate_series(s.from_month - interval '1 month', date_trunc('month', %(day)s::date), interval '1 month') m
JOIN {schema}.customer_mrr_monthly c ON c.month = m::date AND c.customer_id = s.customer_id
WHERE s.from_month < date_trunc('month', %(day)s::date) AND NOT %(full_refresh)s;
ANALYZE mrr_month_stored;

-- Each month end from the first month rewritten, with each currency's rate that day (a currency has none
-- before its first rate); joined to the periods by an index, several months per period.
CREATE TEMP TABLE mrr_month_ends ON COMMIT DROP AS
SELECT r.currency, m.month, m.month_end, r.rate
FROM (SELECT g::date AS month, least((g + interval '1 month - 1 day')::date, %(day)s::date) AS month_end
      FROM generate_series((SELECT min(from_month) FROM mrr_month_scope), date_trunc('month', %(day)s::date),
                           interval '1 month') g) m
CROSS JOIN LATERAL (
    (SELECT DISTINCT ON (currency) currency, rate
     FROM {schema}.mrr_fx_rates
     WHERE rate_date <= m.month_end AND currency <> %(reporting)s
     ORDER BY currency, rate_date DESC)
    UNION ALL
    SELECT %(reporting)s, 1
) r;
CREATE INDEX ON mrr_month_ends (currency, month_end);
ANALYZE mrr_month_ends;

-- The customers rewritten from an earlier month than the day's (a full refresh: everyone), month by
-- month. One sort in (customer, month) order serves both windows: the sum of a customer's periods in force at
-- a month end, then each month against the one before. The month before a customer's from month is read back
-- as stored: the run does not rewrite it.
CREATE TEMP TABLE mrr_month_rows ON COMMIT DROP AS
WITH month_values AS (  -- positive month-end MRR per customer, from the month before its from month
    SELECT customer_id, month, mrr_cents, from_month, paid_before
    FROM (
        SELECT customer_id, month, from_month, paid_before, (sum(cents) OVER customer_month)::bigint AS mrr_cents,
               row_number() OVER customer_month AS nth
        FROM (
            SELECT s.customer_id, m.month, s.from_month, s.paid_before, round(p.mrr_num * m.rate / p.mrr_den) AS cents
            FROM mrr_month_scope s
            JOIN mrr_pass_periods p USING (customer_id)
            JOIN mrr_month_ends m ON m.currency = p.currency AND p.first_day <= m.month_end AND m.month_end < p.end_day
            WHERE m.month >= s.from_month AND s.from_month < date_trunc('month', %(day)s::date)
            UNION ALL
            SELECT s.customer_id, c.month, s.from_month, s.paid_before, c.mrr_cents
            FROM mrr_month_scope s
            JOIN mrr_month_stored c ON c.customer_id = s.customer_id AND NOT c.replaced
            WHERE c.mrr_cents > 0 AND s.from_month < date_trunc('month', %(day)s::date)
        ) period_values
        WINDOW customer_month AS (PARTITION BY customer_id, month)
    ) summed
    WHERE nth = 1 AND mrr_cents > 0
), v AS (
    SELECT customer_id, month, mrr_cents, from_month, paid_before,
           CASE WHEN lag(month) OVER w = (month - interval '1 month')::date THEN lag(mrr_cents) OVER w ELSE 0 END
               AS previous_cents,
           row_number() OVER w > 1 AS paid_earlier,
           lead(month) OVER w AS following
    FROM month_values
    WINDOW w AS (PARTITION BY customer_id ORDER BY month)
)
-- Each customer's month end against the month end before it: rows where either is positive. After a run of
-- months with MRR, the churn in the month that follows.
SELECT customer_id, month, mrr_cents, previous_cents,
       {schema}.mrr_movement(previous_cents, mrr_cents, paid_earlier OR paid_before) AS movement
FROM v
WHERE month >= from_month  -- the month before only served as "the month before"
UNION ALL
SELECT customer_id, (month + interval '1 month')::date, 0, mrr_cents, 'churn'
FROM v
WHERE (month + interval '1 month')::date IS DISTINCT FROM following
  AND (month + interval '1 month')::date <= %(day)s::date;

-- The customers rewritten for the day's month only (a daily run: everyone whose MRR moved since the
-- day before), by one join: its MRR at the day against the month end before, as stored (the row of the
-- month before, or the previous_mrr_cents of the month's own row).
INSERT INTO mrr_month_rows (customer_id, month, mrr_cents, previous_cents, movement)
SELECT customer_id, from_month, mrr_cents, previous_cents,
       {schema}.mrr_movement(previous_cents, mrr_cents, paid_before OR previous_cents > 0)
FROM (
    SELECT s.customer_id, s.from_month, s.paid_before, coalesce(v.mrr_cents, 0) AS mrr_cents,
           coalesce(before.mrr_cents, this.previous_mrr_cents, 0) AS previous_cents
    FROM mrr_month_scope s
    LEFT JOIN (SELECT p.customer_id, sum(round(p.mrr_num * m.rate / p.mrr_den))::bigint AS mrr_cents
               FROM mrr_pass_periods p
               JOIN mrr_month_ends m ON m.currency = p.currency AND m.month_end = %(day)s::date
                                    AND p.first_day <= m.month_end AND m.month_end < p.end_day
               GROUP BY p.customer_id) v USING (customer_id)
    LEFT JOIN mrr_month_stored before ON before.customer_id = s.customer_id AND NOT before.replaced
    LEFT JOIN mrr_month_stored this ON this.customer_id = s.customer_id AND this.replaced
    WHERE s.from_month = date_trunc('month', %(day)s::date)
) r
WHERE mrr_cents > 0 OR previous_cents > 0;
ANALYZE mrr_month_rows;

-- What each new row counts under in mrr_by_dimension_monthly ('(none)' without a value): the plan and billing
-- interval of the customer's largest paying period in force at the month end (at the month end before, for a
-- customer who churned), so a customer who changes plan moves to the new one with all of its MRR; segment and
-- country as saas_db has them now. A join on customer_id, not a lookup per row: a full refresh builds
-- mrr_paying_periods' indexes only at its end.
CREATE TEMP TABLE mrr_month_dimensions ON COMMIT DROP AS
WITH at_days AS (
    SELECT month, customer_id,
           CASE WHEN mrr_cents > 0 THEN least((month + interval '1 month - 1 day')::date, %(day)s::date)
                ELSE month - 1 END AS at_day
    FROM mrr_month_rows
), plans AS (
    SELECT DISTINCT ON (r.month, r.customer_id) r.month, r.customer_id, p.plan_id, p.billing_interval
    FROM at_days r
    JOIN {schema}.mrr_paying_periods p
      ON p.customer_id = r.customer_id AND p.first_day <= r.at_day AND (p.end_day IS NULL OR p.end_day > r.at_day)
    ORDER BY r.month, r.customer_id, p.mrr_num / p.mrr_den DESC, p.plan_id
)
SELECT r.month, r.customer_id, coalesce(nullif(btrim(p.plan_id), ''), '(none)') AS plan_id,
       coalesce(p.billing_interval, '(none)') AS billing_interval,
       coalesce(nullif(btrim(a.segment), ''), '(none)') AS segment,
       coalesce(nullif(btrim(a.country), ''), '(none)') AS country
FROM at_days r
LEFT JOIN plans p USING (month, customer_id)
LEFT JOIN mrr_customer_dimensions a USING (customer_id);
CREATE UNIQUE INDEX ON mrr_month_dimensions (month, customer_id);
ANALYZE mrr_month_dimensions;
