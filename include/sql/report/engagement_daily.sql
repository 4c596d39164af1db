-- The engagement section: the last 180 days of DAU, WAU, MAU and stickiness.
SELECT day, dau, wau, mau, stickiness::float
FROM {schema}.engagement_daily
WHERE day > (SELECT max(day) FROM {schema}.engagement_daily) - 180
ORDER BY day
