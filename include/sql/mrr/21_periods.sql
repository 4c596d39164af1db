-- The paying periods that count, from the rows 20_checks.sql kept, into the work table every later step
-- reads (the second session meanwhile lists the rows left out: 22_issues.sql).
-- MRR = round(mrr_num * rate / mrr_den) on each day of [first_day, end_day) (SPEC: amount × quantity per
-- month; year ÷ 12, week × 52 ÷ 12, day × 365 ÷ 12; ÷ interval_count).
-- Days are UTC days (db.warehouse() sessions run in UTC): in force on D iff valid_from < D+1 <= valid_to.
-- Open periods end at E + 1, the day after the window.
CREATE UNLOGGED TABLE {schema}.mrr_work_periods WITH (autovacuum_enabled = false) AS
WITH rows_in_days AS (
    SELECT row_n, subscription_id, customer_id, upper(currency) AS currency,
           row_n IN (SELECT row_n FROM {schema}.mrr_work_overlaps) AS in_overlap,
           status IN ('active', 'past_due') AND amount_cents > 0 AS paying,
           amount_cents * quantity * CASE billing_interval WHEN 'week' THEN 52 WHEN 'day' THEN 365 ELSE 1 END
               AS mrr_num,
           interval_count * CASE billing_interval WHEN 'month' THEN 1 ELSE 12 END AS mrr_den,
           counts_from AS first_day, valid_from::date AS from_day,
           least(coalesce(valid_to::date, %(e_day)s::date + 1), %(e_day)s::date + 1) AS end_day
    FROM {schema}.mrr_work_period_checks
    WHERE reason IS NULL
), overlapping AS (  -- subscriptions with an overlap: cut into spans between their rows' boundaries
    SELECT * FROM rows_in_days WHERE in_overlap
), spans AS (
    SELECT subscription_id, day AS span_from, lead(day) OVER (PARTITION BY subscription_id ORDER BY day) AS span_to
    FROM (SELECT subscription_id, from_day AS day FROM overlapping
          UNION
          SELECT subscription_id, end_day FROM overlapping) b
), sole AS (  -- spans in force under exactly one row
    SELECT s.span_from, s.span_to, min(o.row_n) AS row_n
    FROM spans s
    JOIN overlapping o ON o.subscription_id = s.subscription_id AND o.from_day <= s.span_from
        AND s.span_to <= o.end_day
    WHERE s.span_to IS NOT NULL
    GROUP BY s.subscription_id, s.span_from, s.span_to
    HAVING count(*) = 1
), pieces AS (
    SELECT customer_id, currency, paying, mrr_num, mrr_den, first_day, end_day FROM rows_in_days WHERE NOT in_overlap
    UNION ALL
    SELECT o.customer_id, o.currency, o.paying, o.mrr_num, o.mrr_den, greatest(s.span_from, o.first_day), s.span_to
    FROM sole s JOIN overlapping o USING (row_n)
)
SELECT customer_id, currency, mrr_num, mrr_den, first_day, end_day
FROM pieces
WHERE paying AND first_day < end_day AND end_day >= %(s_day)s::date AND first_day <= %(e_day)s::date
ORDER BY customer_id, first_day;  -- the order 50_month_values.sql sorts in
CREATE INDEX ON {schema}.mrr_work_periods (customer_id);
ANALYZE {schema}.mrr_work_periods;
