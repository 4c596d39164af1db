-- feature_adoption for a window of a few days [from_day, day], from eng_account_features
-- (40_account_engagement_few_days.sql). The same figures as 50_feature_adoption.sql.
DELETE FROM {schema}.feature_adoption WHERE day BETWEEN %(from_day)s::date AND %(day)s::date;
INSERT INTO {schema}.feature_adoption (day, feature, accounts_30d, adoption_rate)
SELECT d.day::date, f.feature, coalesce(u.accounts, 0), round(coalesce(u.accounts, 0)::numeric / nullif(a.accounts, 0), 6)
FROM generate_series(%(from_day)s::date, %(day)s::date, interval '1 day') d(day)
CROSS JOIN unnest(%(features)s::text[]) f(feature)
LEFT JOIN (SELECT day, feature, count(*) AS accounts FROM eng_account_features GROUP BY 1, 2) u
       ON u.day = d.day::date AND u.feature = f.feature
LEFT JOIN (SELECT day, count(*) AS accounts FROM {schema}.account_engagement_daily
           WHERE day BETWEEN %(from_day)s::date AND %(day)s::date GROUP BY day) a
       ON a.day = d.day::date;
