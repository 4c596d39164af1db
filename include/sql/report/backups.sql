-- The backups section: the last 60 days of backups, oldest first.
SELECT backup_id, started_at, bytes, status, dump_seconds
FROM {schema}.backups
WHERE started_at > now() - interval '60 days'
ORDER BY started_at
