-- account_engagement_daily for a window of a few days [from_day, day] (a daily run): each day's figures aggregated
-- directly from the 30 days up to it. The same figures as 40_account_engagement.sql, whose running sums
-- cost one sort of [from_day - 30, day] and pay off only over longer windows. eng_account_features (which core features
-- each account used in the 30 days up to each day) also serves 50_feature_adoption_few_days.sql.
CREATE TEMP TABLE eng_account_features ON COMMIT DROP AS
SELECT d.day::date AS day, f.customer_id, f.feature
FROM generate_series(%(from_day)s::date, %(day)s::date, interval '1 day') d(day)
JOIN {schema}.account_feature_daily f ON f.day BETWEEN d.day::date - 29 AND d.day::date
GROUP BY 1, 2, 3;

DELETE FROM {schema}.account_engagement_daily WHERE day BETWEEN %(from_day)s::date AND %(day)s::date;
INSERT INTO {schema}.account_engagement_daily (day, customer_id, active_users_7d, active_users_30d, events_7d,
                                               events_30d, features_used_30d, last_active_at, events_trend,
                                               active_users_trend)
SELECT a.day, a.customer_id, a.users_7d, a.users_30d, a.events_7d, a.events_30d, coalesce(f.features, 0),
       a.last_active_at, round(a.events_7d / 7.0 / nullif(a.events_30d / 30.0, 0), 6),
       round(a.users_7d::numeric / nullif(a.users_30d, 0), 6)
FROM (
    SELECT d.day::date AS day, u.customer_id,
           count(DISTINCT u.user_id) FILTER (WHERE u.day > d.day::date - 7) AS users_7d,
           count(DISTINCT u.user_id) AS users_30d,
           coalesce(sum(u.events) FILTER (WHERE u.day > d.day::date - 7), 0) AS events_7d,
           sum(u.events) AS events_30d, max(u.last_event_at) AS last_active_at
    FROM generate_series(%(from_day)s::date, %(day)s::date, interval '1 day') d(day)
    JOIN {schema}.user_activity_daily u ON u.day BETWEEN d.day::date - 29 AND d.day::date
    GROUP BY 1, 2
) a
LEFT JOIN (SELECT day, customer_id, count(*) AS features FROM eng_account_features GROUP BY 1, 2) f
       USING (day, customer_id);
