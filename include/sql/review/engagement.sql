-- The week's mean DAU and the week before's, and WAU, MAU and stickiness on its last day.
SELECT avg(dau) FILTER (WHERE day >= %(week_start)s)::float,
       avg(dau) FILTER (WHERE day < %(week_start)s)::float,
       max(wau) FILTER (WHERE day = %(week_end)s), max(mau) FILTER (WHERE day = %(week_end)s),
       max(stickiness) FILTER (WHERE day = %(week_end)s)::float
FROM {schema}.engagement_daily
WHERE day BETWEEN %(week_start)s::date - 7 AND %(week_end)s
