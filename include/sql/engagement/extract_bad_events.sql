-- Runs on saas_db. Events that break the contract, with their key and reason: those of the window, and
-- any stamped in the future (they would otherwise wait unseen until their day comes).
SELECT event_id, reason
FROM (
    SELECT e.event_id::text,
           CASE WHEN e.occurred_at IS NULL THEN 'occurred_at is null'
                WHEN e.event_name IS NULL THEN 'event_name is null'
                WHEN e.occurred_at > %(now)s
                    THEN 'occurred_at ' || to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                         || ' is in the future'
                WHEN u.user_id IS NULL THEN 'unknown user_id ' || quote_nullable(e.user_id)
                WHEN c.customer_id IS NULL THEN 'unknown customer_id ' || quote_nullable(e.customer_id)
                WHEN e.event_id::text = ANY(%(duplicated_event_ids)s::text[])
                    THEN count(*) OVER (PARTITION BY e.event_id) || ' events hold this event_id: all are left out'
           END AS reason
    FROM {schema}.events e
    LEFT JOIN {schema}.users u ON u.user_id = e.user_id
    LEFT JOIN {schema}.customers c ON c.customer_id = e.customer_id
    WHERE ((e.occurred_at >= %(read_start)s AND e.occurred_at < %(day_end)s) OR e.occurred_at > %(now)s
           OR e.occurred_at IS NULL)
      AND (e.occurred_at IS NULL OR e.event_name IS NULL OR e.occurred_at > %(now)s OR u.user_id IS NULL
           OR c.customer_id IS NULL OR e.event_id::text = ANY(%(duplicated_event_ids)s::text[]))
) bad
