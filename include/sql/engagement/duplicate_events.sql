-- Runs on saas_db. The event_ids that several events of the window hold: all of them are left out (which one
-- happened is for the application to say) and listed by extract_bad_events.sql.
SELECT event_id::text
FROM {schema}.events
WHERE occurred_at >= %(s_start)s AND occurred_at < %(e_next)s AND event_id IS NOT NULL
GROUP BY event_id
HAVING count(*) > 1
