-- Runs on saas_db. The window's valid events, aggregated per UTC day, account, user and core feature
-- (null for any other event name). Only [S, E] is read: older activity is already in the warehouse.
SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS day, e.customer_id, e.user_id,
       CASE WHEN e.event_name = ANY(%(features)s) THEN e.event_name END AS feature,
       count(*) AS events, max(e.occurred_at) AS last_event_at
FROM {schema}.events e
JOIN {schema}.users u ON u.user_id = e.user_id
JOIN {schema}.customers c ON c.customer_id = e.customer_id
WHERE e.occurred_at >= %(s_start)s AND e.occurred_at < %(e_next)s AND e.event_name IS NOT NULL
GROUP BY 1, 2, 3, 4
