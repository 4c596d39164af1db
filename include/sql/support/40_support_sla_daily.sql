-- support_sla_daily for the window's days: per priority and plan at opening, the tickets whose first-response
-- deadline fell on the day; met when first responded by the deadline, else breached (answered late or still
-- unanswered). Nothing is written when saas_db's view has no first_response_at (no response is known).
DELETE FROM {schema}.support_sla_daily WHERE day BETWEEN %(from_day)s AND %(day)s;

INSERT INTO {schema}.support_sla_daily (day, priority, plan_id, due, met, breached, attainment)
SELECT response_due_at::date, priority, plan_id, count(*),
       count(*) FILTER (WHERE first_response_at <= response_due_at),
       count(*) FILTER (WHERE first_response_at IS NULL OR first_response_at > response_due_at),
       round(count(*) FILTER (WHERE first_response_at <= response_due_at)::numeric / count(*), 4)
FROM sup_tickets
WHERE %(responses_known)s AND response_due_at >= %(read_start)s AND response_due_at < %(day_end)s
GROUP BY 1, 2, 3;
