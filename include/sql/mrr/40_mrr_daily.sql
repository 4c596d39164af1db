-- mrr_daily for [S, E] and the accounts behind it (customer_mrr_changes). The day before the window is
-- valued from the periods themselves (read as stored when the run reuses month rows, see mrr.Window);
-- each day then adds its movements, so the bridge holds by construction within the window, and
-- check_bridge.sql compares it with the stored day before and with the month-end values computed
-- independently in 50_month_values.sql.

DELETE FROM {schema}.mrr_daily WHERE day >= %(s_day)s::date;
DELETE FROM {schema}.customer_mrr_changes WHERE day >= %(s_day)s::date;

INSERT INTO {schema}.customer_mrr_changes (day, customer_id, previous_cents, mrr_cents, movement)
SELECT day, customer_id, previous_cents, mrr_cents, movement
FROM {schema}.mrr_work_movements WHERE movement IS NOT NULL;

INSERT INTO {schema}.mrr_daily (day, mrr_cents, arr_cents, paying_customers, new_cents, expansion_cents,
                                contraction_cents, churn_cents, reactivation_cents)
WITH start AS (  -- the day before the window: as stored when the run read only the moving customers
    SELECT mrr_cents, paying_customers AS paying
    FROM {schema}.mrr_daily
    WHERE %(reuses_month_rows)s AND day = %(s_day)s::date - 1
    UNION ALL
    SELECT coalesce(sum(mrr_cents), 0), count(*) FILTER (WHERE mrr_cents > 0)
    FROM (SELECT p.customer_id, sum(round(p.mrr_num * f.rate / p.mrr_den)) AS mrr_cents
          FROM {schema}.mrr_work_periods p
          JOIN {schema}.mrr_work_fx_daily f ON f.currency = p.currency AND f.day = %(s_day)s::date - 1
          WHERE p.first_day <= %(s_day)s::date - 1 AND %(s_day)s::date - 1 < p.end_day
          GROUP BY p.customer_id) c
    HAVING NOT %(reuses_month_rows)s  -- HAVING: an aggregate without GROUP BY always returns a row
), native AS (
    SELECT day,
           coalesce(sum(mrr_cents) FILTER (WHERE movement = 'new'), 0) AS new_cents,
           coalesce(sum(mrr_cents - previous_cents) FILTER (WHERE movement = 'expansion'), 0) AS expansion_cents,
           coalesce(sum(previous_cents - mrr_cents) FILTER (WHERE movement = 'contraction'), 0) AS contraction_cents,
           coalesce(sum(previous_cents) FILTER (WHERE movement = 'churn'), 0) AS churn_cents,
           coalesce(sum(mrr_cents) FILTER (WHERE movement = 'reactivation'), 0) AS reactivation_cents,
           count(*) FILTER (WHERE movement IN ('new', 'reactivation'))
               - count(*) FILTER (WHERE movement = 'churn') AS paying_change
    FROM {schema}.mrr_work_movements
    GROUP BY day
), days AS (
    SELECT d.day::date AS day,
           coalesce(n.new_cents, 0) AS new_cents,
           coalesce(n.expansion_cents, 0) + coalesce(x.expansion_cents, 0) AS expansion_cents,
           coalesce(n.contraction_cents, 0) + coalesce(x.contraction_cents, 0) AS contraction_cents,
           coalesce(n.churn_cents, 0) AS churn_cents,
           coalesce(n.reactivation_cents, 0) AS reactivation_cents,
           coalesce(n.paying_change, 0) AS paying_change
    FROM generate_series(%(s_day)s::date, %(e_day)s::date, interval '1 day') d(day)
    LEFT JOIN native n ON n.day = d.day::date
    LEFT JOIN {schema}.mrr_work_fx_drift x ON x.day = d.day::date
)
SELECT day, mrr_cents, mrr_cents * 12, paying, new_cents, expansion_cents, contraction_cents, churn_cents,
       reactivation_cents
FROM (
    SELECT d.*,
           (start.mrr_cents + sum(d.new_cents + d.reactivation_cents + d.expansion_cents - d.contraction_cents
                                  - d.churn_cents) OVER (ORDER BY d.day))::bigint AS mrr_cents,
           (start.paying + sum(d.paying_change) OVER (ORDER BY d.day))::integer AS paying
    FROM days d CROSS JOIN start
) t;
