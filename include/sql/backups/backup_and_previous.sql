-- A backup and the good one before it, newest first (a backup that shrank is an alert).
SELECT backup_id, bytes, tables
FROM {schema}.backups
WHERE status = 'succeeded' AND kind = 'logical' AND started_at <= (SELECT started_at FROM {schema}.backups WHERE backup_id = %(backup_id)s)
ORDER BY started_at DESC
LIMIT 2
