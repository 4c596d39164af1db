-- Day-over-day movements for the days [S, E], set-based over change points rather than customers × days.
--
-- A customer's MRR moves for two reasons: its set of paying periods changes (a "change day": a period
-- starts or ends), or, for a foreign currency, the day's rate moves. Change days are few and are valued
-- exactly per customer. Rate moves touch every foreign account every day; on days when an account's
-- periods did not change they all move the same way as the rate, so they are summed per group of equal
-- (currency, amount) instead of per account. Customers billed in two foreign currencies at once could
-- net out either way, so every day of theirs is a change day.

CREATE TEMP TABLE mrr_change_days ON COMMIT DROP AS
SELECT DISTINCT customer_id, day
FROM (
    SELECT customer_id, first_day AS day FROM {schema}.mrr_work_periods
    UNION ALL
    SELECT customer_id, end_day FROM {schema}.mrr_work_periods
    UNION ALL
    SELECT p.customer_id, d.day::date
    FROM {schema}.mrr_work_periods p
    JOIN (SELECT customer_id FROM {schema}.mrr_work_periods WHERE currency <> %(reporting)s
          GROUP BY customer_id HAVING count(DISTINCT currency) > 1) multi USING (customer_id)
    CROSS JOIN generate_series(greatest(p.first_day, %(s_day)s::date), least(p.end_day, %(e_day)s::date),
                               interval '1 day') d(day)
    WHERE p.currency <> %(reporting)s
) x
WHERE day BETWEEN %(s_day)s::date AND %(e_day)s::date;
ANALYZE mrr_change_days;

-- Each period in force on a change day or the day before, valued on both days.
CREATE TEMP TABLE mrr_change_pairs ON COMMIT DROP AS
SELECT cd.customer_id, cd.day, p.currency, p.mrr_num, p.mrr_den,
       CASE WHEN cd.day < p.end_day THEN round(p.mrr_num * f1.rate / p.mrr_den) ELSE 0 END AS mrr_cents,
       CASE WHEN p.first_day < cd.day THEN round(p.mrr_num * f0.rate / p.mrr_den) ELSE 0 END AS previous_cents,
       p.first_day < cd.day AND cd.day < p.end_day AS on_both_days
FROM mrr_change_days cd
JOIN {schema}.mrr_work_periods p ON p.customer_id = cd.customer_id AND p.first_day <= cd.day AND cd.day <= p.end_day
LEFT JOIN {schema}.mrr_work_fx_daily f1 ON f1.currency = p.currency AND f1.day = cd.day        -- a period counts only
LEFT JOIN {schema}.mrr_work_fx_daily f0 ON f0.currency = p.currency AND f0.day = cd.day - 1;   -- on days with a rate

-- Customers' movements on their change days. `new` needs "no MRR at any earlier point": before the
-- window that is mrr_customer_first_paid, inside it the customer's earlier change days.
CREATE UNLOGGED TABLE {schema}.mrr_work_movements WITH (autovacuum_enabled = false) AS
SELECT customer_id, day, previous_cents, mrr_cents,
       {schema}.mrr_movement(previous_cents, mrr_cents, paid_before) AS movement
FROM (
    SELECT c.customer_id, c.day, c.previous_cents, c.mrr_cents,
           coalesce(s.first_paid_day < %(s_day)s::date, false)
           OR coalesce(bool_or(c.mrr_cents > 0) OVER (PARTITION BY c.customer_id ORDER BY c.day
                                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false)
               AS paid_before
    FROM (SELECT customer_id, day, sum(previous_cents)::bigint AS previous_cents, sum(mrr_cents)::bigint AS mrr_cents
          FROM mrr_change_pairs GROUP BY customer_id, day) c
    LEFT JOIN {schema}.mrr_customer_first_paid s  -- stored firsts; a full refresh forgets them (see mrr.build)
        ON s.customer_id = c.customer_id AND NOT %(full_refresh)s
) m;

-- Rate drift of the foreign periods in force on a day and the day before, outside their customer's
-- change days: per (currency, amount) group, how many such periods there are on each day (+1 from the
-- day after a period starts, -1 from its end, -1/+1 around each change day already valued above).
CREATE UNLOGGED TABLE {schema}.mrr_work_fx_drift WITH (autovacuum_enabled = false) AS
WITH deltas AS (
    SELECT currency, mrr_num, mrr_den, greatest(first_day + 1, %(s_day)s::date) AS day, 1 AS n
    FROM {schema}.mrr_work_periods
    WHERE currency <> %(reporting)s AND greatest(first_day + 1, %(s_day)s::date) < end_day
    UNION ALL
    SELECT currency, mrr_num, mrr_den, end_day, -1
    FROM {schema}.mrr_work_periods
    WHERE currency <> %(reporting)s AND greatest(first_day + 1, %(s_day)s::date) < end_day
    UNION ALL
    SELECT currency, mrr_num, mrr_den, day, -1 FROM mrr_change_pairs
    WHERE currency <> %(reporting)s AND on_both_days
    UNION ALL
    SELECT currency, mrr_num, mrr_den, day + 1, 1 FROM mrr_change_pairs
    WHERE currency <> %(reporting)s AND on_both_days
), steps AS (
    SELECT currency, mrr_num, mrr_den, day,
           sum(sum(n)) OVER w AS periods,
           lead(day, 1, %(e_day)s::date + 1) OVER w AS next_day
    FROM deltas
    WHERE day <= %(e_day)s::date
    GROUP BY currency, mrr_num, mrr_den, day
    WINDOW w AS (PARTITION BY currency, mrr_num, mrr_den ORDER BY day)
)
-- Each step joined to its days' rates by an index range scan (a lateral subquery, so the planner cannot
-- turn it into a merge or hash join over every step × day: measured at 100k customers, 1.7 s against 3.4 s
-- for expanding the steps into days first).
SELECT x.day, coalesce(sum(x.cents) FILTER (WHERE x.cents > 0), 0)::bigint AS expansion_cents,
       coalesce(-sum(x.cents) FILTER (WHERE x.cents < 0), 0)::bigint AS contraction_cents
FROM steps s
CROSS JOIN LATERAL (
    SELECT f.day,
           s.periods * (round(s.mrr_num * f.rate / s.mrr_den) - round(s.mrr_num * f.previous_rate / s.mrr_den)) AS cents
    FROM {schema}.mrr_work_fx_daily f
    WHERE f.currency = s.currency AND f.day >= s.day AND f.day < s.next_day
    OFFSET 0  -- keeps the subquery lateral (see above)
) x
WHERE s.periods > 0
GROUP BY x.day;
