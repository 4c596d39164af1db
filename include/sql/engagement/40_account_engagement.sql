-- account_engagement_daily for [from_day, day], from the activity of [from_day - 30, day]: one row per account and day with
-- activity in the 30 days up to it (an account without a row that day had none).
--
-- As in 30_engagement_daily.sql, every figure is a running sum of steps per account: events enter on their
-- day and leave 7 / 30 days later; a user (a core feature) counts from an active day until 7 / 30 days
-- later, and a step the next active day cancels is left out. The figures hold from one step to the next: each
-- such span gives its days their rows, so the sort has a row per step, not per account and day.
-- eng_feature_steps (when each account starts and stops counting a core feature) also serves
-- 50_feature_adoption.sql.
CREATE TEMP TABLE eng_feature_steps (customer_id, feature, day, n) ON COMMIT DROP AS
SELECT customer_id, feature, s.day, s.n
FROM (
    SELECT customer_id, feature, day, lag(day) OVER w AS previous_day,
           coalesce(lead(day) OVER w, 'infinity'::date) AS next_day
    FROM {schema}.account_feature_daily
    WHERE day BETWEEN %(from_day)s::date - 30 AND %(day)s::date
    WINDOW w AS (PARTITION BY customer_id, feature ORDER BY day)
) f
CROSS JOIN LATERAL (SELECT f.day, 1 WHERE f.previous_day IS NULL OR f.previous_day < f.day - 30
                    UNION ALL
                    SELECT f.day + 30, -1 WHERE f.next_day > f.day + 30) s(day, n);

CREATE TEMP TABLE eng_account_steps (customer_id, day, events_7d, events_30d, users_7d, users_30d, features_30d,
                                      last_event_at) ON COMMIT DROP AS
WITH user_days AS (
    SELECT customer_id, day, events, last_event_at, lag(day) OVER w AS previous_day,
           coalesce(lead(day) OVER w, 'infinity'::date) AS next_day
    FROM {schema}.user_activity_daily
    WHERE day BETWEEN %(from_day)s::date - 30 AND %(day)s::date
    WINDOW w AS (PARTITION BY customer_id, user_id ORDER BY day)
), account_days AS (
    SELECT customer_id, day, sum(events) AS events, max(last_event_at) AS last_event_at
    FROM user_days
    GROUP BY customer_id, day
)
SELECT customer_id, day, events, events, 0, 0, 0, last_event_at FROM account_days
UNION ALL SELECT customer_id, day + 7, -events, 0, 0, 0, 0, NULL FROM account_days
UNION ALL SELECT customer_id, day + 30, 0, -events, 0, 0, 0, NULL FROM account_days
UNION ALL SELECT customer_id, day, 0, 0, 1, 0, 0, NULL FROM user_days
          WHERE previous_day IS NULL OR previous_day < day - 7
UNION ALL SELECT customer_id, day, 0, 0, 0, 1, 0, NULL FROM user_days
          WHERE previous_day IS NULL OR previous_day < day - 30
UNION ALL SELECT customer_id, day + 7, 0, 0, -1, 0, 0, NULL FROM user_days WHERE next_day > day + 7
UNION ALL SELECT customer_id, day + 30, 0, 0, 0, -1, 0, NULL FROM user_days WHERE next_day > day + 30
UNION ALL SELECT customer_id, day, 0, 0, 0, 0, n, NULL FROM eng_feature_steps;

DELETE FROM {schema}.account_engagement_daily WHERE day BETWEEN %(from_day)s::date AND %(day)s::date;
INSERT INTO {schema}.account_engagement_daily (day, customer_id, active_users_7d, active_users_30d, events_7d,
                                               events_30d, features_used_30d, last_active_at, events_trend,
                                               active_users_trend)
SELECT d.day::date, customer_id, users_7d, users_30d, events_7d, events_30d, features_30d, last_active_at,
       round(events_7d / 7.0 / nullif(events_30d / 30.0, 0), 6), round(users_7d::numeric / nullif(users_30d, 0), 6)
FROM (
    SELECT customer_id, day, coalesce(lead(day) OVER w, 'infinity'::date) AS next_step_day,
           sum(sum(events_7d)) OVER w AS events_7d, sum(sum(events_30d)) OVER w AS events_30d,
           sum(sum(users_7d)) OVER w AS users_7d, sum(sum(users_30d)) OVER w AS users_30d,
           sum(sum(features_30d)) OVER w AS features_30d, max(max(last_event_at)) OVER w AS last_active_at
    FROM eng_account_steps
    GROUP BY customer_id, day
    WINDOW w AS (PARTITION BY customer_id ORDER BY day)
) t
CROSS JOIN generate_series(greatest(t.day, %(from_day)s::date), least(t.next_step_day - 1, %(day)s::date),
                           interval '1 day') d(day)
WHERE t.users_30d > 0;
