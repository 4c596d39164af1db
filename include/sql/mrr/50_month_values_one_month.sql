-- mrr_customer_months for a daily run inside one month M (Window.reuses_month_rows): the same rows as
-- 50_month_values.sql gives, for the customers this run read (mrr_work_affected), without its sort. The month
-- before (P) has one stored row per customer, so M's value is compared to it by a join.

CREATE TEMP TABLE mrr_customer_months ON COMMIT DROP AS
WITH month_end AS (  -- positive MRR at E, M's month end so far
    SELECT p.customer_id, sum(round(p.mrr_num * f.rate / p.mrr_den))::bigint AS mrr_cents
    FROM {schema}.mrr_work_periods p
    JOIN {schema}.mrr_work_fx_daily f ON f.currency = p.currency AND f.day = %(e_day)s::date
    WHERE p.first_day <= %(e_day)s::date AND %(e_day)s::date < p.end_day
    GROUP BY p.customer_id
    HAVING sum(round(p.mrr_num * f.rate / p.mrr_den)) > 0
), month_before AS (  -- positive MRR at P's end, as stored
    SELECT customer_id, mrr_cents
    FROM {schema}.customer_mrr_monthly
    WHERE month = date_trunc('month', %(p_day)s::date)
      AND mrr_cents > 0 AND customer_id IN (SELECT customer_id FROM {schema}.mrr_work_affected)
)
SELECT coalesce(e.customer_id, b.customer_id) AS customer_id, date_trunc('month', %(e_day)s::date)::date AS month,
       coalesce(e.mrr_cents, 0) AS mrr_cents, coalesce(b.mrr_cents, 0) AS previous_cents,
       {schema}.mrr_movement(coalesce(b.mrr_cents, 0), coalesce(e.mrr_cents, 0),
                             b.customer_id IS NOT NULL OR s.customer_id IS NOT NULL) AS movement
FROM month_end e
FULL JOIN month_before b ON b.customer_id = e.customer_id
LEFT JOIN {schema}.mrr_customer_first_paid s  -- paid at an earlier month end: reactivation, not new
    ON s.customer_id = e.customer_id AND s.first_paid_month < date_trunc('month', %(e_day)s::date)::date;
