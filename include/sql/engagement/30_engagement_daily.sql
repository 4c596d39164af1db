-- engagement_daily for [from_day, day], from the activity of [from_day - 60, day] (SPEC "Active user" and lifecycle).
--
-- Each user's active days, with the next one, say on which days the user counts: in WAU from an active day
-- a until a+6 (or the next active day, which starts its own span), in MAU until a+29, dormant from a+30
-- to a+59 when no activity follows before. The spans of one user do not overlap, so each figure is a
-- running sum of +1/-1 steps: one sort of the 60 days' activity, however many days the window has. A step
-- that the next span's start cancels (a user active again within 7 / 30 days) is left out.
CREATE TEMP TABLE eng_user_days ON COMMIT DROP AS
SELECT user_id, day,
       lag(day) OVER w AS previous_day,
       coalesce(lead(day) OVER w, 'infinity'::date) AS next_day
FROM (SELECT DISTINCT user_id, day FROM {schema}.user_activity_daily
      WHERE day BETWEEN %(from_day)s::date - 60 AND %(day)s::date) d
WINDOW w AS (PARTITION BY user_id ORDER BY day);

DELETE FROM {schema}.engagement_daily WHERE day BETWEEN %(from_day)s::date AND %(day)s::date;
INSERT INTO {schema}.engagement_daily (day, dau, wau, mau, stickiness, new_users, returning_users,
                                       resurrected_users, dormant_users)
WITH steps AS (
    SELECT day, 1 AS wau, 0 AS mau, 0 AS dormant FROM eng_user_days
    WHERE previous_day IS NULL OR previous_day < day - 7
    UNION ALL
    SELECT day, 0, 1, 0 FROM eng_user_days WHERE previous_day IS NULL OR previous_day < day - 30
    UNION ALL
    SELECT day + 7, -1, 0, 0 FROM eng_user_days WHERE next_day > day + 7
    UNION ALL
    SELECT day + 30, 0, -1, 0 FROM eng_user_days WHERE next_day > day + 30
    UNION ALL
    SELECT day + 30, 0, 0, 1 FROM eng_user_days WHERE next_day > day + 30
    UNION ALL
    SELECT least(day + 60, next_day), 0, 0, -1 FROM eng_user_days WHERE next_day > day + 30
), running AS (
    SELECT d.day::date AS day,
           sum(coalesce(s.wau, 0)) AS wau, sum(coalesce(s.mau, 0)) AS mau, sum(coalesce(s.dormant, 0)) AS dormant
    FROM generate_series(%(from_day)s::date - 60, %(day)s::date, interval '1 day') d(day)
    LEFT JOIN (SELECT day, sum(wau) AS wau, sum(mau) AS mau, sum(dormant) AS dormant FROM steps GROUP BY day) s
        ON s.day = d.day::date
    GROUP BY d.day
), totals AS (
    SELECT day, sum(wau) OVER w AS wau, sum(mau) OVER w AS mau, sum(dormant) OVER w AS dormant
    FROM running WINDOW w AS (ORDER BY day)
), lifecycle AS (  -- among the users active on each day
    SELECT u.day, count(*) AS dau,
           count(*) FILTER (WHERE u.previous_day >= u.day - 30) AS returning_users,
           count(*) FILTER (WHERE u.previous_day < u.day - 30
                               OR (u.previous_day IS NULL AND EXISTS (
                                   SELECT 1 FROM {schema}.user_activity_daily o
                                   WHERE o.user_id = u.user_id AND o.day < %(from_day)s::date - 60))) AS resurrected_users
    FROM eng_user_days u
    WHERE u.day BETWEEN %(from_day)s::date AND %(day)s::date
    GROUP BY u.day
)
SELECT t.day, coalesce(l.dau, 0), t.wau, t.mau, round(coalesce(l.dau, 0)::numeric / nullif(t.mau, 0), 6),
       coalesce(l.dau - l.returning_users - l.resurrected_users, 0), coalesce(l.returning_users, 0),
       coalesce(l.resurrected_users, 0), t.dormant
FROM totals t
LEFT JOIN lifecycle l USING (day)
WHERE t.day BETWEEN %(from_day)s::date AND %(day)s::date;
