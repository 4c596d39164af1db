-- Runs on saas_db. The event_ids that several events of the window hold: all of them are left out (which one
-- happened is for the application to say) and listed by extract_bad_events.sql. None to look for when the
-- database keeps event_id unique (data_quality/key_is_unique.sql).
SELECT event_id::text
FROM {schema}.events
WHERE NOT %(key_is_unique)s AND occurred_at >= %(read_start)s AND occurred_at < %(day_end)s AND event_id IS NOT NULL
GROUP BY event_id
HAVING count(*) > 1
