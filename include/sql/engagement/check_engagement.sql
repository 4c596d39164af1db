-- Every day of [from_day, day] as stored, checked against the definitions' invariants; one row per problem.
SELECT 'engagement_daily ' || day || ': ' || reason
FROM (
    SELECT d.day,
           CASE WHEN NOT (d.dau <= d.wau AND d.wau <= d.mau) THEN 'DAU ' || d.dau || ', WAU ' || d.wau || ', MAU '
                                                                  || d.mau || ' are not in order'
                WHEN d.new_users + d.returning_users + d.resurrected_users <> d.dau
                    THEN 'new + returning + resurrected <> DAU ' || d.dau
                WHEN d.dau <> coalesce(u.users, 0)
                    THEN 'DAU ' || d.dau || ' but ' || coalesce(u.users, 0) || ' users in user_activity_daily'
           END AS reason
    FROM {schema}.engagement_daily d
    LEFT JOIN (SELECT day, count(DISTINCT user_id) AS users FROM {schema}.user_activity_daily
               WHERE day BETWEEN %(from_day)s::date AND %(day)s::date GROUP BY day) u USING (day)
    WHERE d.day BETWEEN %(from_day)s::date AND %(day)s::date
    UNION ALL
    SELECT g.day::date, 'no row' FROM generate_series(%(from_day)s::date, %(day)s::date, interval '1 day') g(day)
    WHERE NOT EXISTS (SELECT 1 FROM {schema}.engagement_daily e WHERE e.day = g.day::date)
) p
WHERE reason IS NOT NULL
UNION ALL
SELECT 'account_engagement_daily ' || day || ' ' || customer_id || ': 7-day figures exceed the 30-day ones'
FROM {schema}.account_engagement_daily
WHERE day BETWEEN %(from_day)s::date AND %(day)s::date
  AND (active_users_7d > active_users_30d OR events_7d > events_30d OR active_users_30d < 1)
ORDER BY 1
LIMIT 50
