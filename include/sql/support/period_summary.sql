-- The support queue over the days first_day .. last_day (the weekly review, the page's KPIs): tickets opened and
-- resolved, the backlog at the last day's end, CSAT over the tickets resolved, and first-response attainment over
-- the tickets due.
SELECT sum(opened), sum(backlog) FILTER (WHERE day = %(last_day)s), sum(resolved),
       (sum(csat_mean * csat_responses) / nullif(sum(csat_responses), 0))::float, sum(csat_responses),
       (SELECT sum(due) FROM {schema}.support_sla_daily WHERE day BETWEEN %(first_day)s AND %(last_day)s),
       (SELECT sum(met) FROM {schema}.support_sla_daily WHERE day BETWEEN %(first_day)s AND %(last_day)s)
FROM {schema}.support_daily
WHERE priority = 'all' AND day BETWEEN %(first_day)s AND %(last_day)s
