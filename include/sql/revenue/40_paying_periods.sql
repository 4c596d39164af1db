-- The changed customers' paying periods, from the rows 30_checked_rows.sql kept (SPEC "MRR of a subscription
-- period"): MRR = round(mrr_num * rate / mrr_den) on each day of [first_day, end_day), where mrr_num / mrr_den
-- is amount x quantity per month (a year / 12, a week x 52 / 12, a day x 365 / 12; / interval_count); 0 while
-- trialing or paused. In force on a day d iff valid_from < d+1 <= valid_to (UTC days); end_day null: still in force.
-- Where two periods of one subscription overlap, the days under both are cut out.
CREATE TEMP TABLE mrr_new_paying_periods ON COMMIT DROP AS
WITH rows_in_days AS (
    SELECT c.row_n, c.customer_id, c.subscription_id, c.currency_code AS currency, o.row_n IS NOT NULL AS in_overlap,
           c.status IN ('active', 'past_due') AND c.amount_cents > 0 AS paying,
           c.amount_cents * c.quantity * CASE c.billing_interval WHEN 'week' THEN 52 WHEN 'day' THEN 365 ELSE 1 END
               AS mrr_num,
           c.interval_count * CASE c.billing_interval WHEN 'month' THEN 1 ELSE 12 END AS mrr_den,
           c.valid_from::date AS first_day, coalesce(c.valid_to::date, 'infinity') AS end_day,
           c.plan_id,  -- and the billing interval as a team names it: month, 3 months, year
           CASE WHEN c.interval_count = 1 THEN c.billing_interval
                ELSE c.interval_count || ' ' || c.billing_interval || 's' END AS billing_interval
    FROM mrr_period_checks c
    LEFT JOIN mrr_overlaps o USING (row_n)
    WHERE c.reason IS NULL
), overlapping AS (  -- subscriptions with an overlap: cut into spans between their rows' boundaries
    SELECT * FROM rows_in_days WHERE in_overlap
), spans AS (
    SELECT customer_id, subscription_id, day AS span_from,
           lead(day) OVER (PARTITION BY customer_id, subscription_id ORDER BY day) AS span_to
    FROM (SELECT customer_id, subscription_id, first_day AS day FROM overlapping
          UNION
          SELECT customer_id, subscription_id, end_day FROM overlapping) b
), sole AS (  -- spans in force under exactly one row
    SELECT s.span_from, s.span_to, min(o.row_n) AS row_n
    FROM spans s
    JOIN overlapping o ON o.customer_id = s.customer_id AND o.subscription_id = s.subscription_id
        AND o.first_day <= s.span_from AND s.span_to <= o.end_day
    WHERE s.span_to IS NOT NULL
    GROUP BY s.customer_id, s.subscription_id, s.span_from, s.span_to
    HAVING count(*) = 1
), pieces AS (
    SELECT customer_id, currency, paying, mrr_num, mrr_den, first_day, end_day, plan_id, billing_interval
    FROM rows_in_days WHERE NOT in_overlap
    UNION ALL
    SELECT o.customer_id, o.currency, o.paying, o.mrr_num, o.mrr_den, s.span_from, s.span_to, o.plan_id,
           o.billing_interval
    FROM sole s JOIN overlapping o USING (row_n)
)
SELECT customer_id, currency, mrr_num, mrr_den, first_day, nullif(end_day, 'infinity') AS end_day, plan_id,
       billing_interval
FROM pieces
WHERE paying AND first_day < end_day;
