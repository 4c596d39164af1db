-- Runs on saas_db. Events that break the contract, with their key and reason: those of the window, and
-- any stamped in the future (they would otherwise wait unseen until their day comes).
WITH duplicated AS (
    SELECT event_id, count(*) AS copies FROM {schema}.events
    WHERE occurred_at >= %(s_start)s AND occurred_at < %(e_next)s AND event_id IS NOT NULL
    GROUP BY event_id HAVING count(*) > 1
)
SELECT e.event_id::text,
       CASE WHEN e.occurred_at IS NULL THEN 'occurred_at is null'
            WHEN e.event_name IS NULL THEN 'event_name is null'
            WHEN e.occurred_at > %(now)s
                THEN 'occurred_at ' || to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                     || ' is in the future'
            WHEN u.user_id IS NULL THEN 'unknown user_id ' || quote_nullable(e.user_id)
            WHEN c.customer_id IS NULL THEN 'unknown customer_id ' || quote_nullable(e.customer_id)
            WHEN d.event_id IS NOT NULL THEN d.copies || ' events hold this event_id: all are left out'
       END AS reason
FROM {schema}.events e
LEFT JOIN {schema}.users u ON u.user_id = e.user_id
LEFT JOIN {schema}.customers c ON c.customer_id = e.customer_id
LEFT JOIN duplicated d ON d.event_id = e.event_id
WHERE ((e.occurred_at >= %(s_start)s AND e.occurred_at < %(e_next)s) OR e.occurred_at > %(now)s
       OR e.occurred_at IS NULL)
  AND (e.occurred_at IS NULL OR e.event_name IS NULL OR e.occurred_at > %(now)s OR u.user_id IS NULL
       OR c.customer_id IS NULL OR d.event_id IS NOT NULL)
