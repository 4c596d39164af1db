-- One row (a message) per inconsistent day of the window: every day has a row per priority and 'all'; 'all'
-- is the sum of the priorities; a backlog is never negative; due = met + breached.
WITH days AS (
    SELECT d::date AS day FROM generate_series(%(from_day)s::date, %(day)s::date, interval '1 day') d
), daily AS (
    SELECT d.day, count(s.priority) AS rows_,
           sum(s.opened) FILTER (WHERE s.priority = 'all') AS opened_all,
           sum(s.opened) FILTER (WHERE s.priority <> 'all') AS opened_sum,
           sum(s.backlog) FILTER (WHERE s.priority = 'all') AS backlog_all,
           sum(s.backlog) FILTER (WHERE s.priority <> 'all') AS backlog_sum,
           min(s.backlog) AS lowest_backlog
    FROM days d LEFT JOIN {schema}.support_daily s ON s.day = d.day
    GROUP BY d.day
)
SELECT day || ': support_daily has ' || rows_ || ' rows (expected 5: four priorities and all)'
FROM daily WHERE rows_ <> 5
UNION ALL
SELECT day || ': support_daily all opened ' || opened_all || ' <> the priorities'' ' || opened_sum
FROM daily WHERE opened_all <> opened_sum
UNION ALL
SELECT day || ': support_daily all backlog ' || backlog_all || ' <> the priorities'' ' || backlog_sum
FROM daily WHERE backlog_all <> backlog_sum
UNION ALL
SELECT day || ': a negative backlog ' || lowest_backlog FROM daily WHERE lowest_backlog < 0
UNION ALL
SELECT day || ': support_sla_daily ' || priority || '/' || plan_id || ' due ' || due || ' <> met ' || met
       || ' + breached ' || breached
FROM {schema}.support_sla_daily
WHERE day BETWEEN %(from_day)s AND %(day)s AND due <> met + breached
