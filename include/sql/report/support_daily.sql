-- The support section: the last 90 days of the queue (every priority together), oldest first, with each day's
-- first-response SLA attainment per priority (over every plan).
SELECT s.day, s.opened, s.resolved, s.backlog, s.first_response_p50_s, s.csat_mean::float, s.csat_responses,
       (SELECT jsonb_object_agg(priority, round(met::numeric / due, 4))
        FROM (SELECT priority, sum(met) AS met, sum(due) AS due FROM {schema}.support_sla_daily a
              WHERE a.day = s.day GROUP BY priority) p)
FROM {schema}.support_daily s
WHERE s.priority = 'all' AND s.day > (SELECT max(day) FROM {schema}.support_daily) - 90
ORDER BY s.day
