-- Days of [alert_from, day] whose DAU fell below drop_threshold × the mean DAU of the same weekday over the
-- four weeks before (all four must exist).
SELECT d.day, d.dau, round(avg(w.dau), 1) AS weekday_mean
FROM {schema}.engagement_daily d
JOIN {schema}.engagement_daily w ON w.day IN (d.day - 7, d.day - 14, d.day - 21, d.day - 28)
WHERE d.day BETWEEN %(alert_from)s::date AND %(day)s::date
GROUP BY d.day, d.dau
HAVING count(*) = 4 AND d.dau < %(drop_threshold)s * avg(w.dau)
ORDER BY d.day
