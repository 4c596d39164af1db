-- The first of the days read again for late events (%(read_from)s up to the window) whose activity, by user or
-- by core feature, differs from what is stored; null when none does: those days need no rebuild.
WITH read_users AS (
    SELECT day, customer_id, user_id, events, last_event_at
    FROM eng_raw_activity WHERE user_id IS NOT NULL AND day < %(from_day)s::date
), stored_users AS (
    SELECT day, customer_id, user_id, events::bigint, last_event_at FROM {schema}.user_activity_daily
    WHERE day >= %(read_from)s::date AND day < %(from_day)s::date
), read_features AS (
    SELECT day, customer_id, feature, events
    FROM eng_raw_activity WHERE feature IS NOT NULL AND day < %(from_day)s::date
), stored_features AS (
    SELECT day, customer_id, feature, events::bigint FROM {schema}.account_feature_daily
    WHERE day >= %(read_from)s::date AND day < %(from_day)s::date
)
SELECT min(day)
FROM (SELECT day FROM (SELECT * FROM read_users EXCEPT SELECT * FROM stored_users) a
      UNION ALL SELECT day FROM (SELECT * FROM stored_users EXCEPT SELECT * FROM read_users) b
      UNION ALL SELECT day FROM (SELECT * FROM read_features EXCEPT SELECT * FROM stored_features) c
      UNION ALL SELECT day FROM (SELECT * FROM stored_features EXCEPT SELECT * FROM read_features) d) changed
