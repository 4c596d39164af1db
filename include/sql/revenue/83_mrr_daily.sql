-- mrr_daily for the days [written_from, day]: each day's stored movements (none for a new day) moved by what the
-- two passes of 60_movements.sql found (taken out as stored, put in as now); MRR and paying customers carried
-- forward from the day before written_from. The bridge holds by construction; check_bridge.sql also compares
-- each month end with mrr_monthly. No day before the first day any subscription period starts.
CREATE TEMP TABLE mrr_new_daily ON COMMIT DROP AS
WITH stored AS (
    SELECT day, new_cents, expansion_cents, contraction_cents, churn_cents, reactivation_cents,
           paying_customers - lag(paying_customers, 1, 0) OVER (ORDER BY day) AS paying_change
    FROM {schema}.mrr_daily
    WHERE day >= %(written_from)s::date - 1 AND day <= %(last_built)s::date  -- later days: a failed check's
), start AS (  -- the day before written_from, as stored (nothing stored: 0)
    SELECT coalesce(max(mrr_cents), 0) AS mrr_cents, coalesce(max(paying_customers), 0) AS paying
    FROM {schema}.mrr_daily WHERE day = %(written_from)s::date - 1
), moved AS (
    SELECT day,
           sum(sign * mrr_cents) FILTER (WHERE movement = 'new') AS new_cents,
           sum(sign * (mrr_cents - previous_cents)) FILTER (WHERE movement = 'expansion') AS expansion_cents,
           sum(sign * (previous_cents - mrr_cents)) FILTER (WHERE movement = 'contraction') AS contraction_cents,
           sum(sign * previous_cents) FILTER (WHERE movement = 'churn') AS churn_cents,
           sum(sign * mrr_cents) FILTER (WHERE movement = 'reactivation') AS reactivation_cents,
           coalesce(sum(sign) FILTER (WHERE movement IN ('new', 'reactivation')), 0)
               - coalesce(sum(sign) FILTER (WHERE movement = 'churn'), 0) AS paying_change
    FROM mrr_movements
    GROUP BY day
), drift AS (
    SELECT day, sum(sign * expansion_cents) AS expansion_cents, sum(sign * contraction_cents) AS contraction_cents
    FROM mrr_drift
    GROUP BY day
), days AS (
    SELECT d.day::date AS day,
           coalesce(s.new_cents, 0) + coalesce(m.new_cents, 0) AS new_cents,
           coalesce(s.expansion_cents, 0) + coalesce(m.expansion_cents, 0) + coalesce(x.expansion_cents, 0)
               AS expansion_cents,
           coalesce(s.contraction_cents, 0) + coalesce(m.contraction_cents, 0) + coalesce(x.contraction_cents, 0)
               AS contraction_cents,
           coalesce(s.churn_cents, 0) + coalesce(m.churn_cents, 0) AS churn_cents,
           coalesce(s.reactivation_cents, 0) + coalesce(m.reactivation_cents, 0) AS reactivation_cents,
           coalesce(s.paying_change, 0) + coalesce(m.paying_change, 0) AS paying_change
    FROM generate_series(%(written_from)s::date, %(day)s::date, interval '1 day') d(day)
    LEFT JOIN stored s ON s.day = d.day::date
    LEFT JOIN moved m ON m.day = d.day::date
    LEFT JOIN drift x ON x.day = d.day::date
)
SELECT day, mrr_cents, mrr_cents * 12 AS arr_cents, paying AS paying_customers, new_cents, expansion_cents,
       contraction_cents, churn_cents, reactivation_cents
FROM (
    SELECT d.*,
           (start.mrr_cents + sum(d.new_cents + d.reactivation_cents + d.expansion_cents - d.contraction_cents
                                  - d.churn_cents) OVER (ORDER BY d.day))::bigint AS mrr_cents,
           (start.paying + sum(d.paying_change) OVER (ORDER BY d.day))::integer AS paying
    FROM days d CROSS JOIN start
) t;

DELETE FROM {schema}.mrr_daily WHERE day >= %(written_from)s::date OR day < %(earliest)s::date;
INSERT INTO {schema}.mrr_daily (day, mrr_cents, arr_cents, paying_customers, new_cents, expansion_cents,
                                contraction_cents, churn_cents, reactivation_cents)
SELECT day, mrr_cents, arr_cents, paying_customers, new_cents, expansion_cents, contraction_cents, churn_cents,
       reactivation_cents
FROM mrr_new_daily;
