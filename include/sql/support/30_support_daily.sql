-- support_daily for the window's days, per priority and for 'all': tickets opened, first responded to and
-- resolved that day; the backlog open at the day's end (opened minus resolved, counted from the first ticket);
-- first-response and resolution times of the tickets answered or resolved that day (median, p90, seconds);
-- the CSAT ratings of the tickets resolved that day.
DELETE FROM {schema}.support_daily WHERE day BETWEEN %(from_day)s AND %(day)s;

INSERT INTO {schema}.support_daily (day, priority, opened, first_responded, resolved, backlog, first_response_p50_s,
                                    first_response_p90_s, resolution_p50_s, resolution_p90_s, csat_mean,
                                    csat_responses, csat_response_rate)
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(from_day)s::date, %(day)s::date, interval '1 day') d
), priorities AS (
    SELECT unnest(ARRAY['low', 'normal', 'high', 'urgent', 'all']) AS priority
), opened AS (
    SELECT created_at::date AS day, coalesce(priority, 'all') AS priority, count(*) AS n
    FROM sup_tickets
    WHERE created_at >= %(read_start)s AND created_at < %(day_end)s
    GROUP BY GROUPING SETS ((1, priority), (1))
), responded AS (
    SELECT first_response_at::date AS day, coalesce(priority, 'all') AS priority, count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at)) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at)) AS p90
    FROM sup_tickets
    WHERE first_response_at >= %(read_start)s AND first_response_at < %(day_end)s
    GROUP BY GROUPING SETS ((1, priority), (1))
), resolved AS (
    SELECT resolved_at::date AS day, coalesce(priority, 'all') AS priority, count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at)) AS p90,
           round(avg(csat), 4) AS csat_mean, count(csat) AS csat_responses
    FROM sup_tickets
    WHERE resolved_at >= %(read_start)s AND resolved_at < %(day_end)s
    GROUP BY GROUPING SETS ((1, priority), (1))
), open_before AS (  -- the backlog at the end of the day before the window
    SELECT coalesce(priority, 'all') AS priority,
           count(*) FILTER (WHERE created_at < %(read_start)s)
               - count(*) FILTER (WHERE resolved_at < %(read_start)s) AS n
    FROM sup_tickets
    GROUP BY GROUPING SETS ((priority), ())
)
SELECT d.day, p.priority, coalesce(o.n, 0), coalesce(f.n, 0), coalesce(r.n, 0),
       coalesce(b.n, 0) + sum(coalesce(o.n, 0) - coalesce(r.n, 0)) OVER (PARTITION BY p.priority ORDER BY d.day),
       f.p50, f.p90, r.p50, r.p90, r.csat_mean, coalesce(r.csat_responses, 0),
       round(r.csat_responses::numeric / nullif(r.n, 0), 4)
FROM days d
CROSS JOIN priorities p
LEFT JOIN opened o ON o.day = d.day AND o.priority = p.priority
LEFT JOIN responded f ON f.day = d.day AND f.priority = p.priority
LEFT JOIN resolved r ON r.day = d.day AND r.priority = p.priority
LEFT JOIN open_before b ON b.priority = p.priority;
