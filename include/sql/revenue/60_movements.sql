-- Day-over-day movements (SPEC "Movements") from the stored paying periods and rates, taken with %(sign)s into
-- mrr_movements and mrr_drift. mrr.build runs this file twice:
--   sign -1, before 70_source_state.sql: the state the written figures came from, for the restated customers,
--            from their from_day through the last day built (to_day);
--   sign +1, after it: the source now, for the restated customers from their from_day and for everyone else
--            from the first new day (others_from), through the day the run closes (to_day).
-- A customer's MRR moves when its set of paying periods changes (a change day: a period starts or ends), or,
-- in a foreign currency, with the day's rate. Change days are few: each is valued exactly per customer. Rate
-- moves touch every foreign account every day; away from its change days they all move with the rate, so
-- they are summed per (currency, amount) instead of per account. Customers billed in two foreign currencies
-- at once could net out either way: every day of theirs is a change day.
DROP TABLE IF EXISTS mrr_first_rates, mrr_pass_scope, mrr_pass_periods, mrr_fx_daily, mrr_change_days,
    mrr_change_pairs;

-- A period in a foreign currency counts from the currency's first rate on.
CREATE TEMP TABLE mrr_first_rates ON COMMIT DROP AS
SELECT currency, min(rate_date) AS first_rate
FROM {schema}.mrr_fx_rates WHERE currency <> %(reporting)s GROUP BY currency
UNION ALL
SELECT %(reporting)s, '-infinity'::date;
ANALYZE mrr_first_rates;

-- The periods of the pass, each from its currency's first rate (open ones end the day after to_day), with their
-- customer's from_day: every period of a restated customer, and of everyone else whose MRR can have moved from
-- others_from on (a period starts or ends, or one is billed in a foreign currency); when the new days start a
-- month or cross into one (whole_month), of everyone in force then: the new month's rows are all new.
CREATE TEMP TABLE mrr_pass_periods ON COMMIT DROP AS
SELECT customer_id, currency, mrr_num, mrr_den, first_day, end_day, from_day
FROM (
    SELECT p.customer_id, p.currency, p.mrr_num, p.mrr_den, greatest(p.first_day, f.first_rate) AS first_day,
           least(coalesce(p.end_day, 'infinity'), %(to_day)s::date + 1) AS end_day,
           coalesce(r.from_day, %(others_from)s::date) AS from_day,
           r.customer_id IS NOT NULL
           OR bool_or(%(whole_month)s OR greatest(p.first_day, f.first_rate) >= %(others_from)s::date
                      OR p.end_day <= %(to_day)s::date OR p.currency <> %(reporting)s)
              OVER (PARTITION BY p.customer_id) AS moves
    FROM {schema}.mrr_paying_periods p
    JOIN mrr_first_rates f USING (currency)
    LEFT JOIN mrr_restated r USING (customer_id)
    WHERE coalesce(p.end_day, 'infinity') >= coalesce(r.from_day, %(others_from)s::date)  -- in force from then on
      AND greatest(p.first_day, f.first_rate) <= %(to_day)s::date
      AND (r.customer_id IS NOT NULL OR %(others_from)s::date IS NOT NULL)
) c
WHERE moves AND first_day < end_day;
ANALYZE mrr_pass_periods;

-- Its customers: those of its periods, and the restated ones that have none left.
CREATE TEMP TABLE mrr_pass_scope ON COMMIT DROP AS
SELECT DISTINCT customer_id, from_day FROM mrr_pass_periods
UNION
SELECT customer_id, from_day FROM mrr_restated;
ANALYZE mrr_pass_scope;

-- The rate in force on each day of the pass, from the day before its first from_day (the latest rate on or
-- before the day); 1 for the reporting currency.
CREATE TEMP TABLE mrr_fx_daily (currency text, day date, rate numeric, previous_rate numeric,
                                PRIMARY KEY (currency, day)) ON COMMIT DROP;
INSERT INTO mrr_fx_daily
SELECT currency, day, rate, lag(rate) OVER (PARTITION BY currency ORDER BY day)  -- days are consecutive
FROM (
    SELECT r.currency, d.day::date AS day, r.rate
    FROM (SELECT currency, rate_date, rate,
                 lead(rate_date, 1, %(to_day)s::date + 1) OVER (PARTITION BY currency ORDER BY rate_date) AS next_date
          FROM {schema}.mrr_fx_rates WHERE currency <> %(reporting)s) r
    CROSS JOIN (SELECT min(from_day) - 1 AS first_day FROM mrr_pass_periods) b
    CROSS JOIN generate_series(greatest(r.rate_date, b.first_day), least(r.next_date - 1, %(to_day)s::date),
                               interval '1 day') d(day)
    UNION ALL
    SELECT %(reporting)s, d.day::date, 1
    FROM (SELECT min(from_day) - 1 AS first_day FROM mrr_pass_periods) b
    CROSS JOIN generate_series(b.first_day, %(to_day)s::date, interval '1 day') d(day)
) daily;
ANALYZE mrr_fx_daily;

CREATE TEMP TABLE mrr_change_days ON COMMIT DROP AS
SELECT DISTINCT customer_id, day, from_day
FROM (
    SELECT customer_id, first_day AS day, from_day FROM mrr_pass_periods
    UNION ALL
    SELECT customer_id, end_day, from_day FROM mrr_pass_periods
    UNION ALL
    SELECT p.customer_id, d.day::date, p.from_day
    FROM mrr_pass_periods p
    JOIN (SELECT customer_id FROM mrr_pass_periods WHERE currency <> %(reporting)s
          GROUP BY customer_id HAVING count(DISTINCT currency) > 1) multi USING (customer_id)
    CROSS JOIN generate_series(greatest(p.first_day, p.from_day), least(p.end_day, %(to_day)s::date),
                               interval '1 day') d(day)
    WHERE p.currency <> %(reporting)s
) x
WHERE day BETWEEN from_day AND %(to_day)s::date;
ANALYZE mrr_change_days;

-- Each period in force on a change day or the day before, valued on both days.
CREATE TEMP TABLE mrr_change_pairs ON COMMIT DROP AS
SELECT cd.customer_id, cd.day, cd.from_day, p.currency, p.mrr_num, p.mrr_den,
       CASE WHEN cd.day < p.end_day THEN round(p.mrr_num * f1.rate / p.mrr_den) ELSE 0 END AS mrr_cents,
       CASE WHEN p.first_day < cd.day THEN round(p.mrr_num * f0.rate / p.mrr_den) ELSE 0 END AS previous_cents,
       p.first_day < cd.day AND cd.day < p.end_day AS on_both_days
FROM mrr_change_days cd
JOIN mrr_pass_periods p ON p.customer_id = cd.customer_id AND p.first_day <= cd.day AND cd.day <= p.end_day
LEFT JOIN mrr_fx_daily f1 ON f1.currency = p.currency AND f1.day = cd.day
LEFT JOIN mrr_fx_daily f0 ON f0.currency = p.currency AND f0.day = cd.day - 1;

-- Customers' movements on their change days. `new` needs "no MRR at any earlier point": before from_day that
-- is mrr_customer_first_paid (what came before from_day did not change), from it on the earlier change days.
INSERT INTO mrr_movements (sign, customer_id, day, previous_cents, mrr_cents, movement)
SELECT %(sign)s, customer_id, day, previous_cents, mrr_cents,
       {schema}.mrr_movement(previous_cents, mrr_cents, paid_before)
FROM (
    SELECT c.customer_id, c.day, c.previous_cents, c.mrr_cents,
           coalesce(s.first_paid_day < c.from_day, false)
           OR coalesce(bool_or(c.mrr_cents > 0) OVER (PARTITION BY c.customer_id ORDER BY c.day
                                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false)
               AS paid_before
    FROM (SELECT customer_id, day, from_day, sum(previous_cents)::bigint AS previous_cents,
                 sum(mrr_cents)::bigint AS mrr_cents
          FROM mrr_change_pairs GROUP BY customer_id, day, from_day) c
    LEFT JOIN {schema}.mrr_customer_first_paid s ON s.customer_id = c.customer_id
) m;

-- Rate drift of the foreign periods in force on a day and the day before, away from their customer's change
-- days: per (currency, amount), how many such periods there are on each day (+1 from the day after a period
-- starts or from its from_day, -1 from its end, -1/+1 around each change day already valued above).
INSERT INTO mrr_drift (sign, day, expansion_cents, contraction_cents)
WITH deltas AS (
    SELECT currency, mrr_num, mrr_den, greatest(first_day + 1, from_day) AS day, 1 AS n
    FROM mrr_pass_periods
    WHERE currency <> %(reporting)s AND greatest(first_day + 1, from_day) < end_day
    UNION ALL
    SELECT currency, mrr_num, mrr_den, end_day, -1
    FROM mrr_pass_periods
    WHERE currency <> %(reporting)s AND greatest(first_day + 1, from_day) < end_day
    UNION ALL
    SELECT currency, mrr_num, mrr_den, day, -1 FROM mrr_change_pairs WHERE currency <> %(reporting)s AND on_both_days
    UNION ALL
    SELECT currency, mrr_num, mrr_den, day + 1, 1 FROM mrr_change_pairs WHERE currency <> %(reporting)s AND on_both_days
), steps AS (
    SELECT currency, mrr_num, mrr_den, day,
           sum(sum(n)) OVER w AS periods,
           lead(day, 1, %(to_day)s::date + 1) OVER w AS next_day
    FROM deltas
    WHERE day <= %(to_day)s::date
    GROUP BY currency, mrr_num, mrr_den, day
    WINDOW w AS (PARTITION BY currency, mrr_num, mrr_den ORDER BY day)
)
-- Each step joined to its days' rates by an index range scan (a lateral subquery, so the planner cannot turn
-- it into a join over every step x day).
SELECT %(sign)s, x.day, coalesce(sum(x.cents) FILTER (WHERE x.cents > 0), 0)::bigint,
       coalesce(-sum(x.cents) FILTER (WHERE x.cents < 0), 0)::bigint
FROM steps s
CROSS JOIN LATERAL (
    SELECT f.day,
           s.periods * (round(s.mrr_num * f.rate / s.mrr_den) - round(s.mrr_num * f.previous_rate / s.mrr_den)) AS cents
    FROM mrr_fx_daily f
    WHERE f.currency = s.currency AND f.day >= s.day AND f.day < s.next_day
    OFFSET 0  -- keeps the subquery lateral
) x
WHERE s.periods > 0
GROUP BY x.day;
