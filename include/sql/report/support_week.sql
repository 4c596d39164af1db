-- The support KPIs: SLA attainment over the 7 days to the newest day, and CSAT over its 30 days.
SELECT (SELECT sum(met)::float / nullif(sum(due), 0) FROM {schema}.support_sla_daily
        WHERE day > (SELECT max(day) FROM {schema}.support_daily) - 7),
       sum(csat_mean * csat_responses)::float / nullif(sum(csat_responses), 0),
       sum(csat_responses)::float / nullif(sum(resolved), 0)
FROM {schema}.support_daily
WHERE priority = 'all' AND day > (SELECT max(day) FROM {schema}.support_daily) - 30
