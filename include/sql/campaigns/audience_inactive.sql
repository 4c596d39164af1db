-- inactive_30 / _60 / _90: users of paying or trialing accounts whose last activity was %(days)s days before
-- the day (or up to 6 days earlier, so a missed run catches up). One email per crossing: the key
-- is the last active day, and the three windows do not overlap.
WITH last_seen AS (
    SELECT user_id, customer_id, max(day) AS last_day
    FROM {schema}.user_activity_daily
    WHERE day BETWEEN %(day)s::date - %(days)s - 6 AND %(day)s::date - %(days)s
    GROUP BY user_id, customer_id
)
SELECT l.customer_id, l.user_id, l.last_day::text,
       jsonb_build_object(
           'days_inactive', %(day)s::date - l.last_day,
           'last_active_day', l.last_day,
           'events_last_month', (SELECT coalesce(sum(a.events), 0) FROM {schema}.user_activity_daily a
                                 WHERE a.user_id = l.user_id AND a.day > l.last_day - 30 AND a.day <= l.last_day),
           'teammates_active_7d', coalesce(e.active_users_7d, 0))
FROM last_seen l
JOIN camp_live_accounts live ON live.customer_id = l.customer_id
LEFT JOIN {schema}.account_engagement_daily e ON e.day = %(day)s AND e.customer_id = l.customer_id
WHERE NOT EXISTS (SELECT 1 FROM {schema}.user_activity_daily later
                  WHERE later.user_id = l.user_id AND later.day > l.last_day AND later.day <= %(day)s)
