-- The days and priorities whose SLA attainment (over every plan) fell below the threshold, with enough tickets
-- due that the share means something.
SELECT day, priority, sum(due)::int, sum(met)::int
FROM {schema}.support_sla_daily
WHERE day BETWEEN %(alert_from)s AND %(day)s
GROUP BY day, priority
HAVING sum(due) >= %(min_due)s AND sum(met)::numeric / sum(due) < %(threshold)s
ORDER BY day, array_position(ARRAY['urgent', 'high', 'normal', 'low'], priority)
