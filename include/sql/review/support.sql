-- The week's support queue: tickets opened, the backlog at its end, CSAT over the tickets resolved in it, and
-- first-response SLA attainment over the tickets due in it.
SELECT sum(opened), sum(backlog) FILTER (WHERE day = %(week_end)s), sum(resolved),
       (sum(csat_mean * csat_responses) / nullif(sum(csat_responses), 0))::float, sum(csat_responses),
       (SELECT sum(due) FROM {schema}.support_sla_daily WHERE day BETWEEN %(week_start)s AND %(week_end)s),
       (SELECT sum(met) FROM {schema}.support_sla_daily WHERE day BETWEEN %(week_start)s AND %(week_end)s)
FROM {schema}.support_daily
WHERE priority = 'all' AND day BETWEEN %(week_start)s AND %(week_end)s
