-- The customers whose figures already written (through the last day built, last_built) change, and from which day:
-- - a changed customer, from the first day its paying periods differ from the stored ones: per currency, amount,
--   plan and billing interval (mrr_by_dimension_monthly counts those), +1 where a new period starts and -1 where
--   it ends, the opposite for a stored one; the first day on which these do not cancel out is the first day on
--   which what is in force differs;
-- - every customer billed in a currency whose rates changed (a rate added, changed or removed), from the day
--   of the first such rate.
-- Empty on a first build or a full refresh: nothing is written yet (last_built is null).
CREATE TEMP TABLE mrr_restated ON COMMIT DROP AS
WITH period_events AS (
    SELECT customer_id, currency, mrr_num, mrr_den, plan_id, billing_interval, first_day AS day, 1 AS n
    FROM mrr_new_paying_periods WHERE %(last_built)s::date IS NOT NULL
    UNION ALL
    SELECT customer_id, currency, mrr_num, mrr_den, plan_id, billing_interval, end_day, -1
    FROM mrr_new_paying_periods WHERE end_day IS NOT NULL AND %(last_built)s::date IS NOT NULL
    UNION ALL
    SELECT p.customer_id, p.currency, p.mrr_num, p.mrr_den, p.plan_id, p.billing_interval, p.first_day, -1
    FROM {schema}.mrr_paying_periods p JOIN mrr_changed_customers USING (customer_id)
    WHERE %(last_built)s::date IS NOT NULL
    UNION ALL
    SELECT p.customer_id, p.currency, p.mrr_num, p.mrr_den, p.plan_id, p.billing_interval, p.end_day, 1
    FROM {schema}.mrr_paying_periods p JOIN mrr_changed_customers USING (customer_id)
    WHERE p.end_day IS NOT NULL AND %(last_built)s::date IS NOT NULL
), changed_periods AS (
    SELECT customer_id, min(day) AS from_day
    FROM (SELECT customer_id, day FROM period_events
          GROUP BY customer_id, currency, mrr_num, mrr_den, plan_id, billing_interval, day HAVING sum(n) <> 0) d
    GROUP BY customer_id
), changed_rates AS (
    SELECT currency, min(rate_date) AS from_day
    FROM ((SELECT currency, rate_date, rate FROM mrr_fx_checks WHERE reason IS NULL
           EXCEPT
           SELECT currency, rate_date, rate FROM {schema}.mrr_fx_rates)
          UNION ALL
          (SELECT currency, rate_date, rate FROM {schema}.mrr_fx_rates
           EXCEPT
           SELECT currency, rate_date, rate FROM mrr_fx_checks WHERE reason IS NULL)) r
    WHERE %(last_built)s::date IS NOT NULL
    GROUP BY currency
), rate_customers AS (  -- billed in such a currency from the day of its first changed rate on
    SELECT p.customer_id, r.from_day
    FROM changed_rates r
    JOIN (SELECT customer_id, currency, first_day, end_day FROM {schema}.mrr_paying_periods
          UNION ALL
          SELECT customer_id, currency, first_day, end_day FROM mrr_new_paying_periods) p
        ON p.currency = r.currency AND coalesce(p.end_day, 'infinity') > r.from_day
       AND p.first_day <= %(last_built)s::date
)
SELECT customer_id, min(from_day) AS from_day
FROM (SELECT customer_id, from_day FROM changed_periods
      UNION ALL
      SELECT customer_id, from_day FROM rate_customers) c
WHERE from_day <= %(last_built)s::date
GROUP BY customer_id;
ALTER TABLE mrr_restated ADD PRIMARY KEY (customer_id);
ANALYZE mrr_restated;
