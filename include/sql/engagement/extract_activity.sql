-- Runs on saas_db. The window's valid events, aggregated in one pass two ways: per UTC day, account and user
-- (feature null), and per UTC day, account and core feature (user_id null). Only the window is read: older
-- activity is already in the warehouse. Left out: an event_id several events hold, and the users and accounts
-- quality.py quarantined (extract_bad_events.sql and data_quality_issues list them).
SELECT day, customer_id, user_id, feature, count(*) AS events, max(occurred_at) AS last_event_at
FROM (
    SELECT (e.occurred_at AT TIME ZONE 'UTC')::date AS day, e.customer_id, e.user_id, e.occurred_at,
           CASE WHEN e.event_name = ANY(%(features)s) THEN e.event_name END AS feature
    FROM {schema}.events e
    JOIN {schema}.users u ON u.user_id = e.user_id
    JOIN {schema}.customers c ON c.customer_id = e.customer_id
    WHERE e.occurred_at >= %(read_start)s AND e.occurred_at < %(day_end)s AND e.event_name IS NOT NULL
      AND e.event_id::text <> ALL(%(duplicated_event_ids)s::text[])
      AND u.user_id <> ALL(%(quarantined_user_ids)s::text[])
      AND c.customer_id <> ALL(%(quarantined_customer_ids)s::text[])
) e
GROUP BY GROUPING SETS ((day, customer_id, user_id), (day, customer_id, feature))
HAVING GROUPING(user_id) = 0 OR feature IS NOT NULL  -- the events of no core feature count only per user
